from .compat import (
    CHECKPOINT_SAFE_GLOBALS,
    TRUSTED_CHECKPOINTS_ENV,
    UnsafeCheckpointError,
    apply_compat,
    checkpoints_trusted,
    load_from_local,
    load_trusted_checkpoint,
)
from .rate_limit import DoublingRateLimit

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'TRUSTED_CHECKPOINTS_ENV', 'DoublingRateLimit',
    'UnsafeCheckpointError', 'apply_compat', 'checkpoints_trusted', 'load_from_local',
    'load_trusted_checkpoint'
]
