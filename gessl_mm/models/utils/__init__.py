from .frozen_modules import FrozenModules
from .replayed_rng import ReplayedRNG
from .stage_timer import StageTimer
from .view_groups import same_shape_groups

__all__ = ['FrozenModules', 'ReplayedRNG', 'StageTimer', 'same_shape_groups']
