"""Layer-wise learning-rate decay for a ViT backbone inside a detector."""
import functools
from typing import Callable, List, Optional

from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from torch import nn

__all__ = ['BackboneLayerDecayOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` for detectors.

    mmpretrain's constructor asks the model for ``get_layer_depth``; a detector has none,
    its backbone has (mmpretrain's ``VisionTransformer``). This one asks the backbone,
    with the ``backbone.`` prefix: the patch embedding, ``cls_token`` and ``pos_embed`` get
    depth 0, block ``i`` depth ``i + 1``, and everything outside the backbone (neck,
    heads) the top depth, i.e. the full learning rate. Learning rates are
    ``lr * layer_decay_rate ** (num_layers + 1 - depth)``, as ViTDet's layer decay.
    """

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   get_layer_depth: Optional[Callable] = None, **kwargs) -> None:
        if get_layer_depth is None and not prefix and not hasattr(module, 'get_layer_depth'):
            backbone = getattr(module, 'backbone', None)
            if not hasattr(backbone, 'get_layer_depth'):
                raise NotImplementedError(
                    f'layer-wise lr decay needs a backbone with get_layer_depth (mmpretrain '
                    f'ViTs); {type(backbone).__name__} has none')
            get_layer_depth = functools.partial(backbone.get_layer_depth, prefix='backbone.')
        super().add_params(params, module, prefix=prefix, get_layer_depth=get_layer_depth,
                           **kwargs)
