"""The head of DINO pre-training."""
from typing import List, Optional, Union

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class DINOHead(BaseModule):
    """Head for DINO pre-training: computes :class:`DINOLoss` from the projections.

    Args:
        loss: config of the loss, e.g. ``dict(type='DINOLoss', out_channels=65536)``.
        init_cfg: initialisation config.
    """

    def __init__(self, loss: dict, init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_module = MODELS.build(loss)

    def loss(self, student: Tensor, teacher: Tensor, update_center: bool = True) -> Tensor:
        """The DINO loss.

        Args:
            student: student projections of every view, (V, N, C).
            teacher: teacher projections of the global views, (G, N, C).
            update_center: let the loss move its center.

        Returns:
            Tensor: the scalar loss.
        """
        return self.loss_module(student, teacher, update_center=update_center)
