"""VICReg: variance-invariance-covariance regularisation."""
from typing import Dict, List, Optional

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor


@MODELS.register_module()
class VICReg(BaseSelfSupervisor):
    """VICReg (Bardes et al. 2022, `arXiv:2105.04906 <https://arxiv.org/abs/2105.04906>`_).

    Two views go through ``backbone`` and ``neck`` (the expander, e.g. a 3-layer
    ``NonLinearNeck`` with ``with_last_bn=False``) one after the other; the ``head``
    (:class:`VICRegHead`) regularises the two embeddings.
    """

    def loss(self, inputs: List[Tensor], data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, Tensor]:
        """The VICReg loss of a two-view batch.

        Args:
            inputs: the views, each (N, C, H, W); the first two are used.
            data_samples: unused.

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError('VICReg needs a list of 2 views')
        z1 = self.neck(self.backbone(inputs[0]))[0]
        z2 = self.neck(self.backbone(inputs[1]))[0]
        return dict(loss=self.head.loss(z1, z2))
