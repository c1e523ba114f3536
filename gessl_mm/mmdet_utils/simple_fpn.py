"""ViTDet's simple feature pyramid: multi-scale maps from a plain ViT's last feature map."""
from typing import List, Optional, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['LayerNorm2d', 'SimpleFeaturePyramid']


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` map."""

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight,
                            self.bias, self.eps).permute(0, 3, 1, 2)


def _norm(norm_cfg: Optional[dict], channels: int) -> nn.Module:
    if norm_cfg is None:
        return nn.Identity()
    if norm_cfg['type'] == 'LN2d':
        return LayerNorm2d(channels, eps=norm_cfg.get('eps', 1e-6))
    return build_norm_layer(norm_cfg, channels)[1]


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Simple feature pyramid of ViTDet (Li et al., "Exploring Plain Vision Transformer
    Backbones for Object Detection", ECCV 2022).

    From the single stride-16 map of a plain ViT (mmpretrain ``VisionTransformer`` with
    ``out_type='featmap'``), builds maps at strides 4, 8, 16 and 32 (``scale_factors``
    4, 2, 1, 0.5: two / one transposed convolutions, identity, max-pooling), each followed
    by a 1x1 and a 3x3 convolution with norms, plus, when ``num_outs`` asks for more, the
    stride-64 map of detectron2's ``LastLevelMaxPool`` for the RPN.

    Args:
        in_channels (int): channels of the ViT's feature map (768 for ViT-B).
        out_channels (int): channels of every output (256).
        scale_factors (Sequence[float]): resampling of each level, from 4.0, 2.0, 1.0,
            0.5.
        num_outs (int): outputs; those beyond ``len(scale_factors)`` are max-pooled
            (stride 2) from the last.
        norm_cfg (dict, optional): ``dict(type='LN2d')`` (ViTDet; channel LayerNorm) or
            any mmcv norm (``SyncBN``, ``GN``); None for no norm.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: int = 5,
                 norm_cfg: Optional[dict] = dict(type='LN2d'),
                 init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d')) -> None:
        super().__init__(init_cfg)
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs={num_outs} < {len(scale_factors)} scale factors')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factors = tuple(scale_factors)
        self.num_outs = num_outs
        use_bias = norm_cfg is None
        self.stages = nn.ModuleList()
        for scale in self.scale_factors:
            dim = in_channels
            layers: List[nn.Module] = []
            if scale == 4.0:
                layers = [nn.ConvTranspose2d(dim, dim // 2, 2, stride=2),
                          _norm(norm_cfg, dim // 2), nn.GELU(),
                          nn.ConvTranspose2d(dim // 2, dim // 4, 2, stride=2)]
                dim = dim // 4
            elif scale == 2.0:
                layers = [nn.ConvTranspose2d(dim, dim // 2, 2, stride=2)]
                dim = dim // 2
            elif scale == 0.5:
                layers = [nn.MaxPool2d(2, stride=2)]
            elif scale != 1.0:
                raise ValueError(f'scale factor {scale} is not one of 4.0, 2.0, 1.0, 0.5')
            layers += [nn.Conv2d(dim, out_channels, 1, bias=use_bias),
                       _norm(norm_cfg, out_channels),
                       nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=use_bias),
                       _norm(norm_cfg, out_channels)]
            self.stages.append(nn.Sequential(*layers))

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        x = inputs[-1] if isinstance(inputs, (list, tuple)) else inputs
        outs = [stage(x) for stage in self.stages]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
