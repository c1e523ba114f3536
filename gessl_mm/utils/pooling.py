""":func:`pool_features`: a backbone or neck output as one vector per item, used by the
algorithms (task features) and the evaluation (frozen features)."""
from torch import Tensor


def pool_features(out) -> Tensor:
    """A (N, D) vector from a backbone or neck output: the deepest of a tuple of stages,
    spatially averaged (4D maps) or averaged over tokens (3D)."""
    if isinstance(out, (list, tuple)):
        out = out[-1]
    if out.dim() == 4:
        return out.mean((2, 3))
    if out.dim() == 3:
        return out.mean(1)
    return out.flatten(1)
