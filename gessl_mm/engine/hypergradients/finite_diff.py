"""``finite_diff`` (AID-FD): the chain rule through the inner steps, with finite differences
of gradients for its Hessian-vector products (no second-order graph)."""
from typing import Optional, Sequence

import torch

from .base import HYPERGRADIENTS, BaseHypergradient
from .inner_loop import LossFn, Params, grads_of, leaf

FINITE_DIFF_SCHEMES = ('central', 'forward')


@HYPERGRADIENTS.register_module('finite_diff')
class FiniteDiffHypergradient(BaseHypergradient):
    """Reverse pass of ``phi_{k+1} = phi_k - alpha grad L(phi_k)``:
    ``v_k = v_{k+1} - alpha H_k v_{k+1}``; non-adapted parameters collect
    ``-alpha H_uk v_{k+1}``. Each ``H v`` is a difference of gradients at ``phi_k +- r v``.

    Args:
        eps: the step, relative to the norm of the vector it multiplies (as in DARTS).
        scheme: ``'central'`` (two gradients per product) or ``'forward'`` (one, reusing
            the inner step's gradient, which the inner loop then keeps).
    """

    def __init__(self, eps: float = 0.01, scheme: str = 'central') -> None:
        if scheme not in FINITE_DIFF_SCHEMES:
            raise ValueError(f'hypergrad.scheme={scheme!r} is not a finite-difference '
                             f'scheme; choose one of {FINITE_DIFF_SCHEMES}')
        self.eps = eps
        self.scheme = scheme

    @property
    def keeps_inner_grads(self) -> bool:
        return self.scheme == 'forward'

    def through_inner_steps(self, v, fixed, names, inner_loss_fn, inner_lr, trajectory):
        adapted = trajectory.adapted
        for k in reversed(range(len(trajectory.points) - 1)):
            point = trajectory.points[k]
            grad_at_point = None
            if self.scheme == 'forward':
                grad_at_point = (trajectory.grads[k] if len(trajectory.grads) > k else
                                 grads_of(inner_loss_fn(point), point, names))
            hv = hvp_finite_diff(inner_loss_fn, point, v, names, self.eps, grad_at_point)
            for n in fixed:
                fixed[n] = fixed[n] - inner_lr * hv[n]
            v = {n: v[n] - inner_lr * hv[n] for n in adapted}
        return v


def hvp_finite_diff(inner_loss_fn: LossFn, point: Params, vector: Params,
                    wrt: Sequence[str], eps: float,
                    grad_at_point: Optional[Params] = None) -> Params:
    """``H(point) @ vector`` by a finite difference of gradients.

    ``vector`` lives on the adapted parameters; the product is returned for every name in
    ``wrt`` (mixed terms included). The step is ``eps / ||vector||``. Central difference,
    or forward difference when ``grad_at_point`` (the gradient at ``point``, over ``wrt``)
    is given: one gradient evaluation instead of two.
    """
    norm = torch.sqrt(sum((v.detach().float() ** 2).sum() for v in vector.values()))
    if norm == 0:
        return {n: torch.zeros_like(point[n]) for n in wrt}
    r = eps / norm
    signs = (1.0, ) if grad_at_point is not None else (1.0, -1.0)
    diffs = []
    for sign in signs:
        shifted = {**point, **{n: leaf(point[n] + sign * r * v) for n, v in vector.items()}}
        diffs.append(grads_of(inner_loss_fn(shifted), shifted, wrt))
    if grad_at_point is not None:
        return {n: (diffs[0][n] - grad_at_point[n]) / r for n in wrt}
    return {n: (diffs[0][n] - diffs[1][n]) / (2 * r) for n in wrt}
