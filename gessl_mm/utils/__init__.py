from .compat import (
    CHECKPOINT_SAFE_GLOBALS,
    TRUSTED_CHECKPOINTS_ENV,
    UnsafeCheckpointError,
    apply_compat,
    checkpoints_trusted,
    load_from_local,
    load_trusted_checkpoint,
)

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'TRUSTED_CHECKPOINTS_ENV', 'UnsafeCheckpointError',
    'apply_compat', 'checkpoints_trusted', 'load_from_local', 'load_trusted_checkpoint'
]
