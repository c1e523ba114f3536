from typing import Dict

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor

from .base_task_head import BaseTaskHead


@MODELS.register_module()
class PrototypeTaskHead(BaseTaskHead):
    """Parameter-free head: pi(class i | z) = softmax_i(cos(z, c_i) / temperature).

    ``c_i`` is the mean embedding of image ``i``'s support views. When the query views are
    the support views (two views per image), a view is left out of its own class'
    prototype, so view j of image i is classified by its other views: the paper's Eq. 4.

    Args:
        temperature: softmax temperature.
        feature: see :class:`BaseTaskHead`.
    """

    def __init__(self, temperature: float = 0.1, feature: str = 'neck') -> None:
        super().__init__(feature=feature)
        if temperature <= 0:
            raise ValueError(f'model.task_head.temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def logits(self, support: Tensor, query: Tensor, params: Dict[str, Tensor],
               query_is_support: bool) -> Tensor:
        num_support, num_classes = support.shape[:2]
        support = F.normalize(support, dim=-1)
        query = F.normalize(query, dim=-1)
        proto_sum = support.sum(0)  # (B, D)
        sims = query @ F.normalize(proto_sum, dim=-1).T  # (Q, B, B)
        if query_is_support:
            if num_support < 2:
                raise ValueError('PrototypeTaskHead needs at least 2 support views per image '
                                 'when the query views are the support views')
            own = F.normalize(proto_sum.unsqueeze(0) - query, dim=-1)  # leave-one-out
            eye = torch.eye(num_classes, dtype=torch.bool, device=sims.device)
            sims = torch.where(eye, (query * own).sum(-1, keepdim=True), sims)
        return sims.flatten(0, 1) / self.temperature
