"""Task heads turn a task's embeddings into its class distribution pi."""
from typing import Dict, Optional

from mmengine.model import BaseModule
from torch import Tensor


class BaseTaskHead(BaseModule):
    """Base class of the heads that give pi, the distribution over a task's B classes.

    Embeddings come stacked by view: ``support`` is (S, B, D) and ``query`` is (Q, B, D),
    where row ``b`` of every view is an augmentation of image ``b`` (class ``b``).

    Args:
        feature: the embedding the head reads: ``'neck'`` (the projection head's output, the
            default) or ``'backbone'`` (pooled backbone features, for methods without a
            projection head such as MAE).
    """
    #: whether :meth:`task_params` gives task-local parameters
    has_task_params = False

    def __init__(self, feature: str = 'neck', init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if feature not in ('neck', 'backbone'):
            raise ValueError(f"model.task_head.feature must be 'neck' or 'backbone', "
                             f'got {feature!r}')
        self.feature = feature

    def task_params(self, num_classes: int, embed_dim: int, like: Tensor) -> Dict[str, Tensor]:
        """Task-local parameters, initialised for every task and adapted in the inner loop."""
        return {}

    def logits(self, support: Tensor, query: Tensor, params: Dict[str, Tensor],
               query_is_support: bool) -> Tensor:
        """Class logits (log pi up to a constant) of every query view, (Q * B, B)."""
        raise NotImplementedError

    def inner_loss(self, support: Tensor, params: Dict[str, Tensor]) -> Optional[Tensor]:
        """The head's term of the inner loss, or None for a parameter-free head."""
        return None
