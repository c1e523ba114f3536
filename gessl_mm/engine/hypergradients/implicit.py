"""What ``neumann`` and ``cg`` share: the implicit gradient of the proximal inner problem
(iMAML), ``(I + alpha H(phi_K))^-1 dF/dphi``, with exact Hessian-vector products."""
from typing import Optional, Sequence

import torch
from torch import Tensor

from .base import BaseHypergradient
from .inner_loop import LossFn, Params, grads_of, leaf, twice_differentiable


class ExactHVP:
    """Hessian-vector products of the inner loss at one point, by double backpropagation.

    The forward pass and first-order graph are built once and reused by every product.
    """

    def __init__(self, inner_loss_fn: LossFn, point: Params, adapted: Sequence[str],
                 wrt: Sequence[str]) -> None:
        self.point = {**point, **{n: leaf(point[n]) for n in adapted}}
        self.adapted, self.wrt = list(adapted), list(wrt)
        with twice_differentiable():
            loss = inner_loss_fn(self.point)
        self.grad = grads_of(loss, self.point, self.adapted, create_graph=True)

    def __call__(self, vector: Params, wrt: Optional[Sequence[str]] = None) -> Params:
        dot = dot_product(self.grad, {n: vector[n].detach() for n in self.adapted})
        return grads_of(dot, self.point, wrt or self.adapted, retain_graph=True)


class ImplicitHypergradient(BaseHypergradient):
    """Solves ``(I + alpha H) x = v`` at ``phi_K`` (:meth:`solve`); a non-adapted ``u``
    gets ``-alpha H_phi,u x``, as ``d phi* / d u = -alpha (I + alpha H)^-1 H_phi,u`` for
    the proximal inner problem."""

    def through_inner_steps(self, v, fixed, names, inner_loss_fn, inner_lr, trajectory):
        hvp = ExactHVP(inner_loss_fn, trajectory.final, trajectory.adapted, names)
        v = self.solve(hvp, v, inner_lr)
        if fixed:
            hv = hvp(v, list(fixed))
            for n in fixed:
                fixed[n] = fixed[n] - inner_lr * hv[n]
        return v

    def solve(self, hvp: ExactHVP, rhs: Params, inner_lr: float) -> Params:
        raise NotImplementedError


def dot_product(a: Params, b: Params) -> Tensor:
    return sum((a[n] * b[n]).sum() for n in a)


def norm_of(tensors: Params) -> Tensor:
    """The 2-norm of all of ``tensors`` together, as a tensor on their device (no sync)."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(tensors.values()))))
