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
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

# Where the online backbone lives, in order of preference: GeSSL, then plain mmpretrain.
BACKBONE_PREFIXES = ('base.backbone.', 'backbone.')
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


def load_checkpoint(src: str) -> dict:
    """The checkpoint ``src`` as loaded by mmengine (with gessl_mm's safe loading)."""
    from mmengine.runner import CheckpointLoader

    import gessl_mm  # noqa: F401  (checkpoint-safe loading of Runner checkpoints)

    if '://' not in src and not osp.isfile(osp.expanduser(src)):
        raise SystemExit(f'extract_backbone: checkpoint {src} not found')
    try:
        ckpt = CheckpointLoader.load_checkpoint(src, map_location='cpu', logger='silent')
    except Exception as e:  # corrupt, truncated, not a torch file, unsafe pickle
        message = str(e) if src in str(e) else f'{type(e).__name__}: {e}'
        raise SystemExit(f'extract_backbone: cannot read checkpoint {src}: {message}')
    if not isinstance(ckpt, dict):
        raise SystemExit(f'extract_backbone: {src} is not a checkpoint (a state dict or a '
                         f"dict with 'state_dict'), it holds a {type(ckpt).__name__}")
    return ckpt


def _top_prefix(key: str) -> str:
    parts = key.split('.')
    depth = 2 if parts[0] in ('base', 'module') and len(parts) > 2 else 1
    return '.'.join(parts[:depth]) + ('.' if len(parts) > depth else '')


def find_backbone(state: Dict[str, torch.Tensor], src: str
                  ) -> Tuple[str, 'OrderedDict[str, torch.Tensor]']:
    """``(prefix, backbone state dict without the prefix)`` of the online backbone."""
    for prefix in BACKBONE_PREFIXES:
        backbone = OrderedDict((k[len(prefix):], v) for k, v in state.items()
                               if k.startswith(prefix) and torch.is_tensor(v))
        if backbone:
            return prefix, backbone
    found = sorted({_top_prefix(k) for k in state})
    raise SystemExit(
        f'extract_backbone: no backbone weights in {src}: expected keys under '
        f'{" or ".join(repr(p) for p in BACKBONE_PREFIXES)}, found '
        f'{", ".join(repr(p) for p in found) if found else "no keys at all"}')


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
    ckpt = load_checkpoint(src)
    state = ckpt['state_dict'] if isinstance(ckpt.get('state_dict'), dict) else ckpt
    state = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state.items())
    prefix, backbone = find_backbone(state, src)
    backbone = OrderedDict((k, v.detach().cpu().clone()) for k, v in backbone.items())

    src_meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
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
