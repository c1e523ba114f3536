"""Views of one resolution go through a network together (multi-crop)."""
from typing import List

from torch import Tensor


def same_shape_groups(views: List[Tensor]) -> List[List[Tensor]]:
    """Consecutive views of one shape, grouped (multi-crop: one group per resolution)."""
    groups = [[views[0]]]
    for view in views[1:]:
        if view.shape == groups[-1][-1].shape:
            groups[-1].append(view)
        else:
            groups.append([view])
    return groups
