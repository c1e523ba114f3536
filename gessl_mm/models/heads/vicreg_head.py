"""The head of VICReg pre-training."""
from typing import List, Optional, Union

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class VICRegHead(BaseModule):
    """Head for VICReg pre-training: computes :class:`VICRegLoss` of two views.

    Args:
        loss: config of the loss, e.g. ``dict(type='VICRegLoss')``.
        init_cfg: initialisation config.
    """

    def __init__(self, loss: dict, init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_module = MODELS.build(loss)

    def loss(self, z1: Tensor, z2: Tensor) -> Tensor:
        """The VICReg loss of the two views' embeddings, each (N, D)."""
        return self.loss_module(z1, z2)
