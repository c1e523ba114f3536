"""Hypergradients of GeSSL's bi-level problem, one registered method per file.

Config spelling: ``optim_wrapper.hypergrad=dict(type='finite_diff', eps=0.01)``; see
:mod:`.base` for the notation and :func:`build_hypergradient`.
"""
from .base import (
    HYPERGRADIENTS,
    BaseHypergradient,
    HypergradientResult,
    build_hypergradient,
    hypergradient,
)
from .cg import ConjugateGradientHypergradient
from .finite_diff import FiniteDiffHypergradient
from .first_order import FirstOrderHypergradient
from .inner_loop import InnerTrajectory, LossFn, Params, gradient_descent, self_motivated_target
from .neumann import NeumannHypergradient
from .reverse import ReverseHypergradient

#: the registered methods' names
HYPERGRAD_METHODS = tuple(HYPERGRADIENTS.module_dict)

__all__ = [
    'HYPERGRADIENTS', 'HYPERGRAD_METHODS', 'BaseHypergradient', 'HypergradientResult',
    'build_hypergradient', 'hypergradient', 'InnerTrajectory', 'LossFn', 'Params',
    'gradient_descent', 'self_motivated_target', 'FirstOrderHypergradient',
    'ReverseHypergradient', 'FiniteDiffHypergradient', 'NeumannHypergradient',
    'ConjugateGradientHypergradient'
]
