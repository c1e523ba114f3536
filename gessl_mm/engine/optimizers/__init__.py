from .bilevel_optim_wrapper import BiLevelOptimWrapper
from .errors import HypergradientError, NonFiniteError
from .hypergrad import HYPERGRAD_METHODS, InnerTrajectory, gradient_descent, hypergradient

__all__ = [
    'BiLevelOptimWrapper', 'HypergradientError', 'NonFiniteError', 'HYPERGRAD_METHODS',
    'InnerTrajectory', 'gradient_descent', 'hypergradient'
]
