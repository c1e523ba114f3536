from .bilevel_optim_wrapper import BiLevelOptimWrapper, NonFiniteError
from .hypergrad import HYPERGRAD_METHODS, InnerTrajectory, gradient_descent, hypergradient

__all__ = [
    'BiLevelOptimWrapper', 'NonFiniteError', 'HYPERGRAD_METHODS', 'InnerTrajectory',
    'gradient_descent', 'hypergradient'
]
