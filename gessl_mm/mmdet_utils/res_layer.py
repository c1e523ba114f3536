"""The res5 RoI head of the C4 detectors, with MoCo's extra norm."""
from typing import Optional

from mmcv.cnn import build_norm_layer
from mmdet.models.backbones import ResNet
from mmdet.models.layers import ResLayer as _ResLayer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['C4ResLayer']


@MODELS.register_module()
class C4ResLayer(BaseModule):
    """mmdet's ``ResLayer`` shared head (one ResNet stage run on the RoI features) with
    an optional norm layer after it.

    The self-supervised detection protocol of MoCo (``Res5ROIHeadsExtraNorm`` in its
    detectron2 code; ``ResLayerExtraNorm`` in mmselfsup and mmpretrain) fine-tunes with
    SyncBN and adds this norm after res5, whose output otherwise reaches the box head
    unnormalised. Unlike mmpretrain's ``ResLayerExtraNorm`` (64 base channels fixed), the
    width follows ``base_channels`` as in mmdet's ``ResNet``, and ``norm_eval`` also
    freezes SyncBN layers. The stage's keys are mmdet's ``ResLayer`` ones
    (``layer4.0.conv1.weight``, ... for ``stage=3``), i.e. those of the pretrained
    ResNet's ``layer4``; the extra norm is ``norm.*`` and starts from ones and zeros.

    Args:
        depth (int): ResNet depth (18, 34, 50, 101, 152).
        stage (int): index of the stage (3: ``layer4``).
        stride (int): stride of the stage's first block.
        dilation (int): dilation of the stage.
        style (str): ``'pytorch'`` (stride in the 3x3 conv, as mmpretrain's and
            torchvision's ResNet) or ``'caffe'``.
        base_channels (int): channels of the first stage (64 for ResNet-50; smaller
            values give the tiny models of the tests), as mmdet's ``ResNet``.
        norm_cfg (dict): norm of the stage and of the extra norm.
        norm_eval (bool): keep BN layers in eval mode during training.
        extra_norm (bool): add the norm after the stage (MoCo). False gives mmdet's
            ``ResLayer``.
        with_cp (bool): gradient checkpointing of the blocks.
        dcn (dict, optional): deformable convolution of the blocks.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 depth: int,
                 stage: int = 3,
                 stride: int = 2,
                 dilation: int = 1,
                 style: str = 'pytorch',
                 base_channels: int = 64,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 extra_norm: bool = True,
                 with_cp: bool = False,
                 dcn: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg)
        self.stage = stage
        self.norm_eval = norm_eval
        block, stage_blocks = ResNet.arch_settings[depth]
        planes = base_channels * 2**stage
        inplanes = base_channels * 2**(stage - 1) * block.expansion
        self.out_channels = planes * block.expansion
        self.add_module(
            f'layer{stage + 1}',
            _ResLayer(block, inplanes, planes, stage_blocks[stage], stride=stride,
                      dilation=dilation, style=style, with_cp=with_cp, norm_cfg=norm_cfg,
                      dcn=dcn))
        self.with_extra_norm = extra_norm
        if extra_norm:
            self.add_module('norm', build_norm_layer(norm_cfg, self.out_channels)[1])

    def forward(self, x: Tensor) -> Tensor:
        out = getattr(self, f'layer{self.stage + 1}')(x)
        if self.with_extra_norm:
            out = self.norm(out)
        return out

    def train(self, mode: bool = True) -> 'C4ResLayer':
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):  # SyncBN too (mmdet checks BatchNorm2d)
                    m.eval()
        return self
