"""Hypergradients of a bi-level problem whose inner level is K steps of gradient descent.

Notation: ``theta`` are the outer parameters, ``phi_0 = theta`` and
``phi_{k+1} = phi_k - alpha * grad L(phi_k)`` the inner steps on the inner loss ``L``, and
``F(phi_K)`` the outer loss. Every method returns ``dF(phi_K(theta)) / dtheta``, exactly
(``reverse``) or approximately (the others), with one signature::

    hypergradient(method, params, inner_loss_fn, outer_loss_fn, inner_lr, inner_steps,
                  **options) -> dict

Only the parameters named in ``adapted`` (default: all) take inner steps; the others stay at
``theta`` in the inner loop but still receive their full hypergradient (their mixed
second-order terms included), so "adapt only the heads" is exact too.

Methods (the paper's Appendix G.4):

- ``first_order``: ``dF/dphi`` at ``phi_K`` applied to ``theta``.
- ``reverse`` (ITD-RMAD): backpropagation through the K unrolled steps.
- ``finite_diff`` (AID-FD): the same chain rule, with each Hessian-vector product replaced by a
  finite difference of gradients; no second-order graph. ``scheme='central'`` (default) takes
  two gradients per product, ``scheme='forward'`` one, reusing the inner step's gradient.
- ``neumann`` (AID-NMN) and ``cg`` (AID-CG): the implicit gradient of the proximal inner
  problem (iMAML), ``(I + alpha * H(phi_K))^-1 dF/dphi``, by a truncated Neumann series or
  by conjugate gradient, with Hessian-vector products by double backpropagation.
"""
import contextlib
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from .errors import HypergradientError

Params = Dict[str, Tensor]
LossFn = Callable[[Params], Tensor]

FINITE_DIFF_SCHEMES = ('central', 'forward')
HYPERGRAD_METHODS = ('first_order', 'reverse', 'finite_diff', 'neumann', 'cg')
# Neumann terms below this fraction of the first one are rounding noise: their growth says
# nothing about the series.
NEUMANN_NOISE_FLOOR = 1e-6
# The largest ||x|| / ||v|| accepted from cg. Where the inner loss is locally convex
# (H >= 0), ||(I + alpha H)^-1 v|| <= ||v||, and CG's iterates from 0 grow in norm towards
# the solution, so a larger gain needs curvature below -0.9 / alpha: a near-singular system.
CG_MAX_GAIN = 10.0
METHOD_OPTIONS = {
    'first_order': (),
    'reverse': (),
    'finite_diff': ('eps', 'scheme'),
    'neumann': ('terms', ),
    'cg': ('iters', 'tol'),
}


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


def _grads(loss: Tensor, point: Params, names: Sequence[str],
           create_graph: bool = False, retain_graph: Optional[bool] = None) -> Params:
    """Gradients of ``loss`` w.r.t. ``point[names]``; unused parameters get zeros."""
    inputs = [point[n] for n in names]
    grads = torch.autograd.grad(
        loss, inputs, create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)
    return {n: torch.zeros_like(x) if g is None else g for n, x, g in zip(names, inputs, grads)}


def _leaf(t: Tensor) -> Tensor:
    return t.detach().requires_grad_(True)


def _twice_differentiable(enabled: bool = True):
    """A context for forward passes whose gradient is differentiated again (``reverse``'s
    unrolled steps, ``neumann``/``cg``'s Hessian-vector products): attention runs in its
    math kernel, as the fused kernels (flash, memory-efficient) have no double backward."""
    return sdpa_kernel([SDPBackend.MATH]) if enabled else contextlib.nullcontext()


def _dot(a: Params, b: Params) -> Tensor:
    return sum((a[n] * b[n]).sum() for n in a)


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
        with _twice_differentiable(create_graph):
            loss = inner_loss_fn(point)
        grads = _grads(loss, point, wrt, create_graph=create_graph)
        step = {n: point[n] - inner_lr * grads[n] for n in adapted}
        if not create_graph:
            step = {n: _leaf(t) for n, t in step.items()}
        if keep_grads:
            kept.append({n: g.detach() for n, g in grads.items()})
        point = {**point, **step}
        losses.append(loss.detach())
        points = points + [point] if keep_points else [points[0], point]
    return InnerTrajectory(points, losses, adapted, create_graph, kept)


def _hvp_finite_diff(inner_loss_fn: LossFn, point: Params, vector: Params,
                     wrt: Sequence[str], eps: float,
                     grad_at_point: Optional[Params] = None) -> Params:
    """``H(point) @ vector`` by a finite difference of gradients.

    ``vector`` lives on the adapted parameters; the product is returned for every name in
    ``wrt`` (mixed terms included). The step is ``eps / ||vector||``, as in DARTS. Central
    difference, or forward difference when ``grad_at_point`` (the gradient at ``point``,
    over ``wrt``) is given: one gradient evaluation instead of two.
    """
    norm = torch.sqrt(sum((v.detach().float() ** 2).sum() for v in vector.values()))
    if norm == 0:
        return {n: torch.zeros_like(point[n]) for n in wrt}
    r = eps / norm
    signs = (1.0, ) if grad_at_point is not None else (1.0, -1.0)
    diffs = []
    for sign in signs:
        shifted = {**point, **{n: _leaf(point[n] + sign * r * v) for n, v in vector.items()}}
        diffs.append(_grads(inner_loss_fn(shifted), shifted, wrt))
    if grad_at_point is not None:
        return {n: (diffs[0][n] - grad_at_point[n]) / r for n in wrt}
    return {n: (diffs[0][n] - diffs[1][n]) / (2 * r) for n in wrt}


class _ExactHVP:
    """Hessian-vector products of the inner loss at one point, by double backpropagation.

    The forward pass and first-order graph are built once and reused by every product.
    """

    def __init__(self, inner_loss_fn: LossFn, point: Params, adapted: Sequence[str],
                 wrt: Sequence[str]) -> None:
        self.point = {**point, **{n: _leaf(point[n]) for n in adapted}}
        self.adapted, self.wrt = list(adapted), list(wrt)
        with _twice_differentiable():
            loss = inner_loss_fn(self.point)
        self.grad = _grads(loss, self.point, self.adapted, create_graph=True)

    def __call__(self, vector: Params, wrt: Optional[Sequence[str]] = None) -> Params:
        dot = _dot(self.grad, {n: vector[n].detach() for n in self.adapted})
        return _grads(dot, self.point, wrt or self.adapted, retain_graph=True)


def _norm(tensors: Params) -> Tensor:
    """The 2-norm of all of ``tensors`` together, as a tensor on their device (no sync)."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(tensors.values()))))


def _neumann(hvp: _ExactHVP, rhs: Params, inner_lr: float, terms: int) -> Params:
    """``(I + alpha H)^-1 rhs ~= sum_j (-alpha H)^j rhs`` (converges if alpha ||H|| < 1).

    Raises:
        HypergradientError: the terms grow (or are not finite): the series diverges at
            this ``inner_lr`` and its sum would be meaningless.
    """
    term, total = dict(rhs), dict(rhs)
    norms = [_norm(rhs)]
    for _ in range(terms):
        hv = hvp(term)
        term = {n: -inner_lr * hv[n] for n in term}
        total = {n: total[n] + term[n] for n in total}
        norms.append(_norm(term))
    _check_neumann(torch.stack(norms).tolist(), inner_lr)  # the solve's one host sync
    return total


def _check_neumann(norms: List[float], inner_lr: float) -> None:
    """Raise if the Neumann terms' norms ``norms`` (``||(-alpha H)^j v||``) grow.

    H is symmetric, so ``log ||(alpha H)^j v||`` is convex in ``j``: once a term is larger
    than the one before, every later term grows at least as fast, and the series diverges
    (in exact arithmetic; the growth of terms that are rounding noise is ignored).
    """
    remedy = ("use hypergrad=dict(type='cg') (the same linear system without the series; "
              "it needs I + alpha H positive definite), 'finite_diff' or 'reverse'; more "
              'terms only diverge further. The weights were not updated.')
    shown = ', '.join(f'{n:.3g}' for n in norms)
    if not math.isfinite(norms[0]):
        raise HypergradientError(
            f"hypergrad 'neumann': the outer loss's gradient is not finite (norm {norms[0]}) "
            f'at optim_wrapper.inner_lr={inner_lr}; the weights were not updated. Lower '
            'optim_wrapper.inner_lr or the outer lr, or check the data.')
    if all(math.isfinite(n) for n in norms):
        floor = NEUMANN_NOISE_FLOOR * norms[0]
        growth = [b / a for a, b in zip(norms, norms[1:]) if b > a and b > floor]
        if not growth:
            return
        rate = max(growth)
        raise HypergradientError(
            f"hypergrad 'neumann': the series sum_j (-alpha H)^j v diverges at "
            f'optim_wrapper.inner_lr={inner_lr}: its terms have norms {shown}, growing up to '
            f'{rate:.3g}x per term, so alpha * ||H|| >= {rate:.3g} > 1 and its sum would be '
            f'meaningless. Lower optim_wrapper.inner_lr (below {inner_lr / rate:.2g} at '
            f'least), or {remedy}')
    raise HypergradientError(
        f"hypergrad 'neumann': the series sum_j (-alpha H)^j v overflows at "
        f'optim_wrapper.inner_lr={inner_lr} (its terms have norms {shown}): alpha * ||H|| '
        f'is far above 1. Lower optim_wrapper.inner_lr, or {remedy}')


def _conjugate_gradient(hvp: _ExactHVP, rhs: Params, inner_lr: float, iters: int,
                        tol: float) -> Params:
    """Solve ``(I + alpha H) x = rhs`` by conjugate gradient from ``x = 0``.

    Stopping at ``iters`` iterations with a residual above ``tol`` is the intended
    truncation. Its residual may also grow on the way: CG decreases the error in the
    ``(I + alpha H)``-norm, not the residual, so that is no sign of failure either.

    Raises:
        HypergradientError: ``I + alpha H`` is not positive definite along a search
            direction (alpha is too large for the inner loss's negative curvature), or is
            so close to singular that the solution exceeds :data:`CG_MAX_GAIN` times
            ``rhs``, or the solve is not finite.
    """
    x = {n: torch.zeros_like(v) for n, v in rhs.items()}
    r, p = dict(rhs), dict(rhs)
    rr = _dot(r, r)
    threshold = tol**2 * rr
    quotients = []  # p'(I + alpha H)p / p'p of each search direction
    for _ in range(iters):
        if rr <= threshold:
            break
        hv = hvp(p)
        ap = {n: p[n] + inner_lr * hv[n] for n in p}
        pap = _dot(p, ap)
        quotients.append(pap / _dot(p, p))
        step = rr / pap
        x = {n: x[n] + step * p[n] for n in x}
        r = {n: r[n] - step * ap[n] for n in r}
        rr_new = _dot(r, r)
        p = {n: r[n] + (rr_new / rr) * p[n] for n in p}
        rr = rr_new
    values = torch.stack([_norm(x), _norm(rhs), *quotients]).tolist()  # one host sync
    _check_cg(values[0], values[1], values[2:], inner_lr)
    return x


def _check_cg(x_norm: float, rhs_norm: float, quotients: List[float], inner_lr: float
              ) -> None:
    """Raise if the CG solve of ``(I + alpha H) x = rhs`` is not to be trusted."""
    where = f"hypergrad 'cg' at optim_wrapper.inner_lr={inner_lr}"
    unrolled = ("; or use hypergrad=dict(type='reverse') or 'finite_diff', which "
                'differentiate the inner steps themselves and need no minimum. The weights '
                'were not updated.')
    if not all(math.isfinite(v) for v in (x_norm, rhs_norm, *quotients)):
        raise HypergradientError(
            f'{where}: the solve of (I + alpha H) x = v is not finite (||x|| = {x_norm}, '
            f'||v|| = {rhs_norm}). Lower optim_wrapper.inner_lr or the outer lr, or check the '
            'data. The weights were not updated.')
    lowest = min(quotients, default=1.0)
    if lowest <= 0:
        # p'(I + alpha H)p / p'p = 1 + alpha * (the inner loss's curvature along p).
        raise HypergradientError(
            f"{where}: I + alpha H is not positive definite: along a search direction p, "
            f"p'(I + alpha H)p / p'p = {lowest:.3g}, i.e. the inner loss curves down more "
            f'steeply than -1/alpha = {-1 / inner_lr:.3g}, and the proximal inner problem '
            'whose implicit gradient cg computes has no minimum. Lower '
            f'optim_wrapper.inner_lr (below {inner_lr / (1 - lowest):.2g} at least)'
            f'{unrolled}')
    gain = x_norm / rhs_norm if rhs_norm > 0 else 0.0
    if gain > CG_MAX_GAIN:
        raise HypergradientError(
            f'{where}: I + alpha H is close to singular: the solution is {gain:.3g}x the '
            'norm of the outer gradient (at most 1x where the inner loss is locally convex; '
            f'the limit is CG_MAX_GAIN = {CG_MAX_GAIN:g}x), as negative curvature near '
            f'-1/alpha blows it up. Lower optim_wrapper.inner_lr{unrolled}')


def check_method(method: str, options: dict) -> None:
    """Raise a clear error for an unknown method or option."""
    if method not in HYPERGRAD_METHODS:
        raise ValueError(f'hypergrad.type={method!r} is not a hypergradient method; '
                         f'choose one of {HYPERGRAD_METHODS}')
    unknown = set(options) - set(METHOD_OPTIONS[method])
    if unknown:
        raise ValueError(f'hypergrad option(s) {sorted(unknown)} do not apply to {method!r}; '
                         f'it takes {list(METHOD_OPTIONS[method]) or "no options"}')
    if options.get('scheme', 'central') not in FINITE_DIFF_SCHEMES:
        raise ValueError(f"hypergrad.scheme={options['scheme']!r} is not a finite-difference "
                         f'scheme; choose one of {FINITE_DIFF_SCHEMES}')


def hypergradient(method: str,
                  params: Params,
                  inner_loss_fn: LossFn,
                  outer_loss_fn: LossFn,
                  inner_lr: float,
                  inner_steps: int,
                  adapted: Optional[Sequence[str]] = None,
                  trajectory: Optional[InnerTrajectory] = None,
                  eps: float = 0.01,
                  scheme: str = 'central',
                  terms: int = 5,
                  iters: int = 5,
                  tol: float = 1e-10,
                  on_outer_grad: Optional[Callable[[], None]] = None) -> Params:
    """The gradient of ``outer_loss_fn(phi_K(params))`` w.r.t. ``params``.

    Args:
        method: one of :data:`HYPERGRAD_METHODS`.
        params: ``theta``, name -> tensor; every tensor must require grad.
        inner_loss_fn: ``L(params) -> scalar``; a deterministic function of its argument.
        outer_loss_fn: ``F(adapted_params) -> scalar`` (the target is closed over).
        inner_lr: ``alpha``.
        inner_steps: ``K``.
        adapted: names that take inner steps (default: all of ``params``).
        trajectory: the inner loop, when the caller already ran it (its ``create_graph`` must
            be True for ``reverse``); computed here otherwise.
        eps: ``finite_diff`` step, relative to the norm of the vector it multiplies.
        scheme: ``finite_diff`` difference, ``'central'`` or ``'forward'`` (the latter
            reuses ``trajectory.grads`` when they were kept).
        terms: ``neumann`` series terms.
        iters: ``cg`` iterations.
        tol: ``cg`` relative residual tolerance.
        on_outer_grad: called once the outer loss's own gradient is computed (to time the
            parts; for ``reverse`` that is the whole backward pass).

    Returns:
        dict: name -> hypergradient, for every name in ``params``.
    """
    check_method(method, dict(scheme=scheme) if method == 'finite_diff' else {})
    names = list(params)
    adapted = list(adapted) if adapted is not None else names
    fixed = [n for n in names if n not in set(adapted)]
    exact = method == 'reverse'
    if trajectory is None or (exact and not trajectory.create_graph):
        trajectory = gradient_descent(
            params, inner_loss_fn, inner_lr, inner_steps, adapted, create_graph=exact)

    if exact:
        result = _grads(outer_loss_fn(trajectory.final), params, names)
        if on_outer_grad is not None:
            on_outer_grad()
        return result

    final = {**trajectory.final, **{n: _leaf(trajectory.final[n]) for n in adapted}}
    outer_grad = _grads(outer_loss_fn(final), final, names)
    if on_outer_grad is not None:
        on_outer_grad()
    result = {n: outer_grad[n] for n in fixed}
    v = {n: outer_grad[n] for n in adapted}
    if method == 'first_order':
        pass
    elif method == 'finite_diff':
        # Reverse pass of phi_{k+1} = phi_k - alpha grad L(phi_k):
        # v_k = v_{k+1} - alpha H_k v_{k+1}; fixed parameters collect -alpha H_uk v_{k+1}.
        forward = scheme == 'forward'
        for k in reversed(range(len(trajectory.points) - 1)):
            point = trajectory.points[k]
            grad_at_point = None
            if forward:
                grad_at_point = (trajectory.grads[k] if len(trajectory.grads) > k else
                                 _grads(inner_loss_fn(point), point, names))
            hv = _hvp_finite_diff(inner_loss_fn, point, v, names, eps, grad_at_point)
            for n in fixed:
                result[n] = result[n] - inner_lr * hv[n]
            v = {n: v[n] - inner_lr * hv[n] for n in adapted}
    else:
        hvp = _ExactHVP(inner_loss_fn, trajectory.final, adapted, names)
        if method == 'neumann':
            v = _neumann(hvp, v, inner_lr, terms)
        else:
            v = _conjugate_gradient(hvp, v, inner_lr, iters, tol)
        if fixed:
            # d phi* / d u = -alpha (I + alpha H)^-1 H_phi,u for the proximal inner problem.
            hv = hvp(v, fixed)
            for n in fixed:
                result[n] = result[n] - inner_lr * hv[n]
    result.update(v)
    return {n: result[n] for n in names}
