from typing import Dict

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor

from .base_task_head import BaseTaskHead


@MODELS.register_module()
class LinearTaskHead(BaseTaskHead):
    """The paper's classification head c(.): a B-way linear classifier after the neck.

    Its weights are task-local: zero-initialised for every task (so the first inner step
    sets them from the class means), adapted in the inner loop by cross-entropy on the
    support views' pseudo-labels (added to the base algorithm's loss), and discarded
    after the task. Embeddings are L2-normalised and logits divided by ``temperature``.

    Args:
        temperature: logit scale.
        feature: see :class:`BaseTaskHead`.
    """
    has_task_params = True

    def __init__(self, temperature: float = 0.1, feature: str = 'neck') -> None:
        super().__init__(feature=feature)
        if temperature <= 0:
            raise ValueError(f'model.task_head.temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def task_params(self, num_classes: int, embed_dim: int, like: Tensor) -> Dict[str, Tensor]:
        weight = like.new_zeros(num_classes, embed_dim).requires_grad_()
        bias = like.new_zeros(num_classes).requires_grad_()
        return {'weight': weight, 'bias': bias}

    def _classify(self, z: Tensor, params: Dict[str, Tensor]) -> Tensor:
        z = F.normalize(z.flatten(0, 1), dim=-1)
        return F.linear(z, params['weight'], params['bias']) / \
            self.temperature

    def logits(self, support: Tensor, query: Tensor, params: Dict[str, Tensor],
               query_is_support: bool) -> Tensor:
        return self._classify(query, params)

    def inner_loss(self, support: Tensor, params: Dict[str, Tensor]) -> Tensor:
        labels = torch.arange(support.shape[1], device=support.device).repeat(support.shape[0])
        return F.cross_entropy(self._classify(support, params), labels)
