"""mmdet side of GeSSL's transfer benchmarks (configs/benchmarks/mmdet).

Importing this module registers, for mmdet configs (``custom_imports=dict(imports=[
'gessl_mm', 'gessl_mm.mmdet_utils'])``):

- ``init_cfg=dict(type='StrictPretrained', ...)``: pretrained weights that must fit, or
  a :class:`PretrainedMismatchError` listing the keys (mmengine's ``'Pretrained'`` only
  warns);
- ``C4ResLayer``: the C4 res5 RoI head with MoCo's extra norm;
- ``SimpleFeaturePyramid``: ViTDet's neck for plain ViT backbones;
- ``BackboneLayerDecayOptimWrapperConstructor``: layer-wise lr decay of a ViT backbone.
"""
from .config_utils import find_strict_pretrained, set_pretrained, switch_norm
from .layer_decay import BackboneLayerDecayOptimWrapperConstructor
from .res_layer import C4ResLayer
from .simple_fpn import LayerNorm2d, SimpleFeaturePyramid
from .strict_pretrained import (
    GESSL_BACKBONE_PREFIXES,
    PretrainedMismatchError,
    StrictPretrainedInit,
    load_pretrained_strict,
)

__all__ = [
    'BackboneLayerDecayOptimWrapperConstructor', 'GESSL_BACKBONE_PREFIXES', 'LayerNorm2d',
    'C4ResLayer', 'PretrainedMismatchError', 'SimpleFeaturePyramid',
    'StrictPretrainedInit', 'find_strict_pretrained', 'load_pretrained_strict',
    'set_pretrained', 'switch_norm'
]
