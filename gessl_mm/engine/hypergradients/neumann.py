"""``neumann`` (AID-NMN): the implicit hypergradient by a truncated Neumann series."""
import math
from typing import List

import torch

from ..errors import HypergradientError
from .base import HYPERGRADIENTS
from .implicit import ExactHVP, ImplicitHypergradient, norm_of
from .inner_loop import Params

# Neumann terms below this fraction of the first one are rounding noise: their growth says
# nothing about the series.
NEUMANN_NOISE_FLOOR = 1e-6


@HYPERGRADIENTS.register_module('neumann')
class NeumannHypergradient(ImplicitHypergradient):
    """``(I + alpha H)^-1 v ~= sum_{j <= terms} (-alpha H)^j v``; converges if
    ``alpha ||H|| < 1``, and raises :class:`HypergradientError` where its terms grow.

    Args:
        terms: the series' terms after the first.
    """

    def __init__(self, terms: int = 5) -> None:
        self.terms = terms

    def solve(self, hvp: ExactHVP, rhs: Params, inner_lr: float) -> Params:
        return neumann_series(hvp, rhs, inner_lr, self.terms)


def neumann_series(hvp: ExactHVP, rhs: Params, inner_lr: float, terms: int) -> Params:
    """``(I + alpha H)^-1 rhs ~= sum_j (-alpha H)^j rhs`` (converges if alpha ||H|| < 1).

    Raises:
        HypergradientError: the terms grow (or are not finite): the series diverges at
            this ``inner_lr`` and its sum would be meaningless.
    """
    term, total = dict(rhs), dict(rhs)
    norms = [norm_of(rhs)]
    for _ in range(terms):
        hv = hvp(term)
        term = {n: -inner_lr * hv[n] for n in term}
        total = {n: total[n] + term[n] for n in total}
        norms.append(norm_of(term))
    check_neumann(torch.stack(norms).tolist(), inner_lr)  # the solve's one host sync
    return total


def check_neumann(norms: List[float], inner_lr: float) -> None:
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
