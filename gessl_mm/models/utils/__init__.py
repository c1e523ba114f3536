from .frozen_modules import FrozenModules
from .pooling import pool_features
from .side_effects import SideEffectGuard

__all__ = ['FrozenModules', 'SideEffectGuard', 'pool_features']
