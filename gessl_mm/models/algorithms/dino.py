"""DINO: self-distillation with no labels."""
from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.models.utils import CosineEMA
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from ..utils import same_shape_groups


@MODELS.register_module()
class DINO(BaseSelfSupervisor):
    """DINO (Caron et al. 2021, `arXiv:2104.14294 <https://arxiv.org/abs/2104.14294>`_).

    The student (``backbone`` + ``neck``, e.g. :class:`DINONeck`) sees every view; the
    teacher, a momentum copy of the student (``target_net``, a :class:`CosineEMA`), sees
    the first ``num_global_views`` (global) views. Views of one resolution go through the
    student together (multi-crop: global crops first, then local crops). The ``head``
    (:class:`DINOHead`) gives the loss between the teacher's centred, sharpened outputs and
    the student's.

    Every :meth:`loss` moves the teacher and the loss's center, as a training step of DINO
    does (GeSSL's muted passes leave both alone: :class:`gessl_mm.models.adapters.DINOAdapter`).

    Args:
        backbone: config of the backbone.
        neck: config of the projection head (:class:`DINONeck`).
        head: config of the head (:class:`DINOHead`).
        base_momentum: start momentum of the teacher, in :class:`CosineEMA`'s convention
            (``1 - m`` in DINO's: 0.004 is DINO's 0.996); it anneals to 0 (DINO's 1).
        num_global_views: views the teacher sees.
        pretrained: checkpoint to load.
        data_preprocessor: config of the data preprocessor.
        init_cfg: initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.004,
                 num_global_views: int = 2,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, pretrained=pretrained,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if num_global_views < 1:
            raise ValueError(f'DINO: num_global_views must be >= 1, got {num_global_views}')
        self.num_global_views = num_global_views
        self.target_net = CosineEMA(nn.Sequential(self.backbone, self.neck),
                                    momentum=base_momentum)

    def loss(self, inputs: List[Tensor], data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, Tensor]:
        """The DINO loss of a multi-view batch.

        Args:
            inputs: the views, each (N, C, H, W); the global views first.
            data_samples: unused.

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < max(2,
                                                                      self.num_global_views):
            raise ValueError(f'DINO needs a list of at least {max(2, self.num_global_views)} '
                             'views (the global views first)')
        student = self._student(inputs)
        with torch.no_grad():
            self.target_net.update_parameters(nn.Sequential(self.backbone, self.neck))
            global_views = torch.cat(list(inputs[:self.num_global_views]))
            teacher = self.target_net(global_views)[0].unflatten(0, (self.num_global_views, -1))
        loss = self.head.loss(student, teacher)
        return dict(loss=loss)

    def _student(self, inputs: List[Tensor]) -> Tensor:
        """Student projections (V, N, C); consecutive views of one shape share a pass."""
        outs = [self.neck(self.backbone(torch.cat(group)))[0]
                for group in same_shape_groups(list(inputs))]
        return torch.cat(outs).unflatten(0, (len(inputs), -1))
