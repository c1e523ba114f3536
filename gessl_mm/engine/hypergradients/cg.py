"""``cg`` (AID-CG): the implicit hypergradient by conjugate gradient."""
import math
from typing import List

import torch

from ..errors import HypergradientError
from .base import HYPERGRADIENTS
from .implicit import ExactHVP, ImplicitHypergradient, dot_product, norm_of
from .inner_loop import Params

# The largest ||x|| / ||v|| accepted from cg. Where the inner loss is locally convex
# (H >= 0), ||(I + alpha H)^-1 v|| <= ||v||, and CG's iterates from 0 grow in norm towards
# the solution, so a larger gain needs curvature below -0.9 / alpha: a near-singular system.
CG_MAX_GAIN = 10.0


@HYPERGRADIENTS.register_module('cg')
class ConjugateGradientHypergradient(ImplicitHypergradient):
    """Solves ``(I + alpha H) x = v`` by conjugate gradient from ``x = 0``; raises
    :class:`HypergradientError` where ``I + alpha H`` is indefinite or near-singular.

    Args:
        iters: CG iterations.
        tol: relative residual tolerance.
    """

    def __init__(self, iters: int = 5, tol: float = 1e-10) -> None:
        self.iters = iters
        self.tol = tol

    def solve(self, hvp: ExactHVP, rhs: Params, inner_lr: float) -> Params:
        return conjugate_gradient(hvp, rhs, inner_lr, self.iters, self.tol)


def conjugate_gradient(hvp: ExactHVP, rhs: Params, inner_lr: float, iters: int,
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
    rr = dot_product(r, r)
    threshold = tol**2 * rr
    quotients = []  # p'(I + alpha H)p / p'p of each search direction
    for _ in range(iters):
        if rr <= threshold:
            break
        hv = hvp(p)
        ap = {n: p[n] + inner_lr * hv[n] for n in p}
        pap = dot_product(p, ap)
        quotients.append(pap / dot_product(p, p))
        step = rr / pap
        x = {n: x[n] + step * p[n] for n in x}
        r = {n: r[n] - step * ap[n] for n in r}
        rr_new = dot_product(r, r)
        p = {n: r[n] + (rr_new / rr) * p[n] for n in p}
        rr = rr_new
    values = torch.stack([norm_of(x), norm_of(rhs), *quotients]).tolist()  # one host sync
    check_cg(values[0], values[1], values[2:], inner_lr)
    return x


def check_cg(x_norm: float, rhs_norm: float, quotients: List[float], inner_lr: float
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
