"""DINO's projection head: an MLP and a weight-normalised layer of prototypes."""
import math
from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class DINONeck(BaseModule):
    """The projection head of DINO (Caron et al. 2021), as an mmpretrain neck.

    ``num_layers`` linear layers (``in -> hid -> ... -> bottleneck``, GELU between them,
    optionally a norm layer after each hidden one), an L2 normalisation, then a
    weight-normalised linear layer without bias that scores ``out_channels`` prototypes.
    With ``norm_last_layer`` the prototypes' norm is fixed to 1 (no learned gain).

    Args:
        in_channels: channels of the backbone's last feature map.
        out_channels: number of prototypes, K in the paper (65536 there).
        hid_channels: width of the hidden layers.
        bottleneck_channels: width before the prototypes.
        num_layers: linear layers of the MLP (>= 1).
        norm_cfg: norm layer after each hidden layer; None (DINO's default) for none.
        norm_last_layer: fix the prototypes' norm to 1.
        with_avg_pool: average-pool a 4D feature map first.
        init_cfg: initialisation config of the MLP.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hid_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 num_layers: int = 3,
                 norm_cfg: Optional[dict] = None,
                 norm_last_layer: bool = True,
                 with_avg_pool: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='TruncNormal', std=0.02, bias=0., layer='Linear'),
                     dict(type='Constant', val=1., layer=['_BatchNorm', 'LayerNorm'])
                 ]) -> None:
        super().__init__(init_cfg)
        if num_layers < 1:
            raise ValueError(f'DINONeck: num_layers must be >= 1, got {num_layers}')
        self.with_avg_pool = with_avg_pool
        layers: List[nn.Module] = []
        channels = in_channels
        for _ in range(num_layers - 1):
            layers.append(nn.Linear(channels, hid_channels))
            if norm_cfg is not None:
                layers.append(build_norm_layer(norm_cfg, hid_channels)[1])
            layers.append(nn.GELU())
            channels = hid_channels
        layers.append(nn.Linear(channels, bottleneck_channels))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = WeightNormLinear(bottleneck_channels, out_channels,
                                           learn_gain=not norm_last_layer)

    def forward(self, x: Tuple[Tensor, ...]) -> Tuple[Tensor]:
        """Prototype scores (N, out_channels) of the last feature map in ``x``."""
        x = x[-1]
        if self.with_avg_pool and x.dim() == 4:
            x = x.mean((2, 3))
        x = self.mlp(x.flatten(1))
        x = F.normalize(x, dim=-1)
        return (self.last_layer(x), )


class WeightNormLinear(nn.Module):
    """A linear layer without bias whose rows are ``gain * v / ||v||`` (Salimans & Kingma 2016).

    Args:
        in_features: input size.
        out_features: output size.
        learn_gain: learn the per-row gain (initialised to 1); otherwise it is fixed to 1.
    """

    def __init__(self, in_features: int, out_features: int, learn_gain: bool = False) -> None:
        super().__init__()
        self.weight_v = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight_v, a=math.sqrt(5))  # nn.Linear's default
        self.weight_g = nn.Parameter(torch.ones(out_features, 1)) if learn_gain else None

    @property
    def weight(self) -> Tensor:
        weight = F.normalize(self.weight_v, dim=1)
        return weight if self.weight_g is None else self.weight_g * weight

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight)
