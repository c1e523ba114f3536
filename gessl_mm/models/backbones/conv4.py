"""Conv4: the four-block convolutional backbone ("C4") of few-shot learning."""
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


@MODELS.register_module()
class Conv4(BaseBackbone):
    """The Conv4 backbone (Vinyals et al. 2016; Snell et al. 2017).

    Four blocks of ``conv3x3 -> BN -> ReLU -> MaxPool(2)``. An 84x84 image gives a
    (64, 5, 5) feature map, a 32x32 one a (64, 2, 2) map.

    Args:
        in_channels: channels of the input image.
        hid_channels: channels of the first three blocks.
        out_channels: channels of the last block.
        out_indices: blocks (0-3) whose feature maps are returned.
        frozen_stages: the first ``frozen_stages`` blocks are frozen (eval mode, no
            gradient); -1 or 0 freezes none.
        norm_eval: keep the norm layers in eval mode (frozen running statistics) while
            training.
        conv_cfg: config of the convolutions.
        norm_cfg: config of the norm layers.
        act_cfg: config of the activations.
        init_cfg: initialisation config.
    """

    num_blocks = 4

    def __init__(self,
                 in_channels: int = 3,
                 hid_channels: int = 64,
                 out_channels: int = 64,
                 out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1., layer=['_BatchNorm', 'GroupNorm'])
                 ]) -> None:
        super().__init__(init_cfg)
        out_indices = [i + self.num_blocks if i < 0 else i for i in out_indices]
        if not out_indices or any(i < 0 or i >= self.num_blocks for i in out_indices):
            raise ValueError(f'Conv4: out_indices must be in [0, {self.num_blocks}), got '
                             f'{out_indices}')
        if frozen_stages > self.num_blocks:
            raise ValueError(f'Conv4: frozen_stages must be at most {self.num_blocks}, got '
                             f'{frozen_stages}')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_channels = out_channels

        self.blocks = nn.ModuleList()
        channels = in_channels
        for i in range(self.num_blocks):
            block_channels = out_channels if i == self.num_blocks - 1 else hid_channels
            self.blocks.append(
                nn.Sequential(
                    ConvModule(channels, block_channels, 3, padding=1, conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg, act_cfg=act_cfg),
                    nn.MaxPool2d(2)))
            channels = block_channels
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """The feature maps of the blocks in ``out_indices``, each (N, C, H, W)."""
        outs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for block in self.blocks[:max(self.frozen_stages, 0)]:
            block.eval()
            for param in block.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'Conv4':
        """Set the training mode, keeping frozen blocks and (with ``norm_eval``) norms in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
