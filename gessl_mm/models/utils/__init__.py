from .frozen_modules import FrozenModules
from .replayed_rng import ReplayedRNG
from .split_batch_norm import SplitBatchNorm2d
from .stage_timer import StageTimer
from .view_groups import same_shape_groups

__all__ = ['FrozenModules', 'ReplayedRNG', 'SplitBatchNorm2d', 'StageTimer', 'same_shape_groups']
