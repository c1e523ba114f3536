"""GeSSL's inner loop: K steps of gradient descent from theta, and the points they pass."""
import contextlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

Params = Dict[str, Tensor]
LossFn = Callable[[Params], Tensor]


@dataclass
class InnerTrajectory:
    """The points of the inner loop.

    Attributes:
        points: ``phi_0 (= theta), ..., phi_K``.
        losses: the inner loss at ``phi_0, ..., phi_{K-1}`` (detached).
        adapted: names of the parameters that take inner steps.
        create_graph: whether ``points`` are differentiable functions of ``theta``.
        grads: the gradient of the inner loss at ``phi_0, ..., phi_{K-1}`` w.r.t. every
            name of the point (detached), when kept; else empty.
    """
    points: List[Params]
    losses: List[Tensor]
    adapted: List[str]
    create_graph: bool
    grads: List[Params] = field(default_factory=list)

    @property
    def final(self) -> Params:
        return self.points[-1]


def grads_of(loss: Tensor, point: Params, names: Sequence[str],
             create_graph: bool = False, retain_graph: Optional[bool] = None) -> Params:
    """Gradients of ``loss`` w.r.t. ``point[names]``; unused parameters get zeros."""
    inputs = [point[n] for n in names]
    grads = torch.autograd.grad(
        loss, inputs, create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)
    return {n: torch.zeros_like(x) if g is None else g for n, x, g in zip(names, inputs, grads)}


def leaf(t: Tensor) -> Tensor:
    """``t`` as a fresh leaf that requires grad."""
    return t.detach().requires_grad_(True)


def twice_differentiable(enabled: bool = True):
    """A context for forward passes whose gradient is differentiated again (``reverse``'s
    unrolled steps, ``neumann``/``cg``'s Hessian-vector products): attention runs in its
    math kernel, as the fused kernels (flash, memory-efficient) have no double backward."""
    return sdpa_kernel([SDPBackend.MATH]) if enabled else contextlib.nullcontext()


def gradient_descent(point: Params, inner_loss_fn: LossFn, inner_lr: float, steps: int,
                     adapted: Sequence[str], create_graph: bool = False,
                     keep_points: bool = True, keep_grads: bool = False) -> InnerTrajectory:
    """Take ``steps`` gradient steps on ``adapted`` from ``point``.

    Without ``create_graph`` every new point is a fresh leaf, so no graph outlives its step.
    With ``keep_grads`` each step differentiates w.r.t. every name of ``point`` (same
    backward pass) and the trajectory keeps those gradients.
    """
    adapted = list(adapted)
    wrt = list(point) if keep_grads else adapted
    points, losses, kept = [point], [], []
    for _ in range(steps):
        with twice_differentiable(create_graph):
            loss = inner_loss_fn(point)
        grads = grads_of(loss, point, wrt, create_graph=create_graph)
        step = {n: point[n] - inner_lr * grads[n] for n in adapted}
        if not create_graph:
            step = {n: leaf(t) for n, t in step.items()}
        if keep_grads:
            kept.append({n: g.detach() for n, g in grads.items()})
        point = {**point, **step}
        losses.append(loss.detach())
        points = points + [point] if keep_points else [points[0], point]
    return InnerTrajectory(points, losses, adapted, create_graph, kept)


def self_motivated_target(trajectory: InnerTrajectory, inner_loss_fn: LossFn,
                          inner_lr: float, steps: int) -> InnerTrajectory:
    """``steps`` further steps from the adapted weights, without a graph to theta (the
    paper's self-motivated target, ``steps = lambda - 1``). Its first loss is the inner loss
    after adaptation (the same forward pass)."""
    start = {n: t.detach().requires_grad_(n in trajectory.adapted)
             for n, t in trajectory.final.items()}
    return gradient_descent(start, inner_loss_fn, inner_lr, steps, trajectory.adapted,
                            keep_points=False)
