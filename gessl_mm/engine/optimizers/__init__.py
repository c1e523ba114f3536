from ..errors import HypergradientError, NonFiniteError
from .bilevel_optim_wrapper import BiLevelOptimWrapper

__all__ = ['BiLevelOptimWrapper', 'HypergradientError', 'NonFiniteError']
