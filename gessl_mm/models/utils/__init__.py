from .pooling import pool_features
from .side_effects import SideEffectGuard

__all__ = ['SideEffectGuard', 'pool_features']
