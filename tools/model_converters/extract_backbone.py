"""Extract the online backbone of a self-supervised checkpoint for downstream tasks.

Usage: ``python tools/model_converters/extract_backbone.py IN OUT``

``IN`` is a GeSSL training checkpoint (the base algorithm sits under ``base.``, so the
backbone is ``base.backbone.*``) or any mmpretrain self-supervised checkpoint
(``backbone.*``: SimCLR, BYOL, MoCo, MAE, ...); local path or URL. A ``module.`` prefix
(a checkpoint saved from a DDP-wrapped model) is removed first. Only the online backbone
is kept: momentum-encoder and teacher copies (``target_net.``, ``momentum_encoder.``),
necks, heads and task heads are dropped.

``OUT`` is ``{'state_dict': {...}, 'meta': {...}}`` whose keys are the backbone's own
(``conv1.weight``, ``layer1.0.conv1.weight``, ...), without any prefix: the convention of
OpenMMLab's converted self-supervised backbones. Load it into the backbone module itself,
with no ``prefix``:

.. code-block:: python

    # mmpretrain: classification benchmarks, linear evaluation
    model = dict(type='ImageClassifier',
                 backbone=dict(type='ResNet', depth=50, frozen_stages=4,
                               init_cfg=dict(type='Pretrained', checkpoint=OUT)),
                 ...)
    # mmdet: detection / instance segmentation
    model = dict(backbone=dict(type='ResNet', depth=50,
                               init_cfg=dict(type='Pretrained', checkpoint=OUT)),
                 ...)

The backbone config must match the pretraining one (``meta['backbone_cfg']`` holds it when
``IN`` records its config). mmpretrain's ``ResNet`` and mmdet's ``ResNet`` share their key
names; so do mmpretrain's ``VisionTransformer``, ``MAEViT`` and ``MoCoV3ViT``. Do not pass
``prefix='backbone.'`` with ``OUT`` (that is for loading ``IN`` itself, which also works
without conversion: ``prefix='base.backbone.'`` for GeSSL, ``'backbone.'`` otherwise), and
do not use ``OUT`` as a whole-model ``load_from``.
"""
import argparse
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import List, Optional

import torch

import gessl_mm  # noqa: F401  (checkpoint-safe loading of Runner checkpoints)
from gessl_mm.utils.checkpoint import CheckpointError, backbone_state, read_checkpoint

# Training metadata copied from IN's meta, when present.
_META_KEYS = ('epoch', 'iter', 'seed', 'experiment_name', 'time', 'mmengine_version')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract the online backbone of a GeSSL or mmpretrain self-supervised '
        'checkpoint (keys without prefix, for init_cfg=dict(type="Pretrained", '
        'checkpoint=OUT) in the backbone)')
    parser.add_argument('src', metavar='IN', help='self-supervised checkpoint (path or URL)')
    parser.add_argument('dst', metavar='OUT', help='backbone-only checkpoint to write')
    return parser.parse_args(argv)


def _backbone_cfg(meta: dict) -> Optional[dict]:
    """The backbone's config from the config text a Runner checkpoint records, if any."""
    text = meta.get('cfg')
    if not isinstance(text, str):
        return None
    try:
        from mmengine.config import Config
        cfg = Config.fromstring(text, '.py')
        model = cfg.model
        backbone = model.base.backbone if 'base' in model else model.backbone
        return backbone.to_dict()
    except Exception:  # an unparsable or unusual config: the weights are what matters
        return None


def extract_backbone(src: str, dst: str) -> dict:
    """Write the online backbone of ``src`` to ``dst``; returns what was written."""
    if osp.abspath(osp.expanduser(src)) == osp.abspath(osp.expanduser(dst)):
        raise SystemExit(f'extract_backbone: OUT must differ from IN ({src})')
    try:
        state, src_meta = read_checkpoint(src)  # a DDP ``module.`` removed
        prefix, backbone = backbone_state(state, src, bare=False)
    except CheckpointError as e:
        raise SystemExit(f'extract_backbone: {e}')
    backbone = OrderedDict((k, v.detach().cpu().clone()) for k, v in backbone.items())

    meta = dict(converted_from=src, source_prefix=prefix, num_tensors=len(backbone),
                converter='tools/model_converters/extract_backbone.py')
    meta.update({k: src_meta[k] for k in _META_KEYS if k in src_meta})
    backbone_cfg = _backbone_cfg(src_meta)
    if backbone_cfg is not None:
        meta['backbone_cfg'] = backbone_cfg

    out_dir = osp.dirname(osp.abspath(osp.expanduser(dst)))
    os.makedirs(out_dir, exist_ok=True)
    converted = dict(state_dict=backbone, meta=meta)
    torch.save(converted, osp.expanduser(dst))
    return converted


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    converted = extract_backbone(args.src, args.dst)
    state, meta = converted['state_dict'], converted['meta']
    values = sum(v.numel() for v in state.values())
    print(f"wrote {len(state)} backbone tensors ({values:,} values) from {args.src} "
          f"({meta['source_prefix']}*) to {args.dst}")
    sys.stdout.flush()


if __name__ == '__main__':
    main()
