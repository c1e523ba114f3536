"""Read a checkpoint, find the backbone in it, load it: for the tools (test.py, few_shot.py,
sigma_measure.py, extract_backbone.py) and ``init_cfg=dict(type='StrictPretrained')``."""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Iterable, Sequence, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

__all__ = ['BACKBONE_PREFIXES', 'CheckpointError', 'backbone_state', 'key_prefixes',
           'load_backbone', 'read_checkpoint']

#: Where a backbone sits in the checkpoints this project meets, in order of preference:
#: a GeSSL checkpoint (``base.backbone.``), a plain mmpretrain self-supervised one
#: (``backbone.``), a backbone-only file of extract_backbone.py (``''``: its own names).
BACKBONE_PREFIXES = ('base.backbone.', 'backbone.', '')
#: Key revisions applied by default: a checkpoint saved from a DDP-wrapped model.
DDP_REVISE_KEYS = ((r'^module\.', ''), )

State = 'OrderedDict[str, torch.Tensor]'


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, not a checkpoint or lacks the weights
    asked for; the message names the file."""


def read_checkpoint(path: str, map_location: str = 'cpu',
                    revise_keys: Sequence[Tuple[str, str]] = DDP_REVISE_KEYS
                    ) -> Tuple[State, dict]:
    """``(tensors, meta)`` of the checkpoint ``path`` (local path or anything mmengine's
    ``CheckpointLoader`` reads, with gessl_mm's safe loading): the tensors of its
    ``state_dict`` (or of the file itself, a bare state dict) with ``revise_keys`` (regex
    substitutions) applied to their names, and its ``meta`` (``{}`` if none)."""
    if '://' not in path and not osp.isfile(osp.expanduser(path)):
        raise CheckpointError(f'checkpoint {path} not found')
    try:
        ckpt = CheckpointLoader.load_checkpoint(path, map_location=map_location,
                                                logger='silent')
    except Exception as e:  # corrupt, truncated, not a torch file, unsafe pickle
        message = str(e) if path in str(e) else f'{type(e).__name__}: {e}'
        raise CheckpointError(f'cannot read checkpoint {path}: {message}') from e
    source = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(source, dict):
        holds = (f"its 'state_dict' is a {type(source).__name__}" if source is not ckpt
                 else f'it holds a {type(ckpt).__name__}')
        raise CheckpointError(f"{path} is not a checkpoint (a state dict or a dict with "
                              f"'state_dict'), {holds}")
    state: State = OrderedDict()
    for key, value in source.items():
        if torch.is_tensor(value):
            for pattern, repl in revise_keys:
                key = re.sub(pattern, repl, key)
            state[key] = value
    meta = ckpt.get('meta') if source is not ckpt else None
    return state, meta if isinstance(meta, dict) else {}


def key_prefixes(keys: Iterable[str]) -> str:
    """``'base.backbone.' (318), 'base.neck.' (6), ...``: where the checkpoint's keys live."""
    counts: Dict[str, int] = OrderedDict()
    for key in keys:
        parts = key.split('.')
        depth = 2 if parts[0] in ('base', 'module') and len(parts) > 2 else 1
        top = '.'.join(parts[:depth]) + ('.' if len(parts) > depth else '')
        counts[top] = counts.get(top, 0) + 1
    return ', '.join(f'{k!r} ({n})' for k, n in counts.items()) or 'no tensors at all'


def backbone_state(state: State, source: str, bare: bool = True) -> Tuple[str, State]:
    """``(prefix, the backbone's tensors without it)``: the first of
    :data:`BACKBONE_PREFIXES` that some key of ``state`` (read from ``source``) starts
    with. ``bare=False``: only prefixed keys count (``''`` is not a candidate)."""
    prefixes = BACKBONE_PREFIXES if bare else tuple(p for p in BACKBONE_PREFIXES if p)
    for prefix in prefixes:
        backbone = OrderedDict(
            (k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
        if backbone:
            return prefix, backbone
    raise CheckpointError(
        f'no backbone weights in {source}: expected keys under '
        f'{" or ".join(repr(p) for p in prefixes)}, found {key_prefixes(state)}')


def load_backbone(model: nn.Module, path: str, map_location: str = 'cpu') -> str:
    """Load the backbone of checkpoint ``path`` (:func:`backbone_state`) into that of
    ``model`` (``model.base.backbone``, ``model.backbone`` or ``model`` itself), strictly,
    and the model's other tensors where their names and shapes match; returns a summary.
    Raises :class:`CheckpointError` if ``path`` is unreadable or does not fit."""
    state, _ = read_checkpoint(path, map_location)
    modules = dict(model.named_modules())  # the same places in the model ('': itself)
    model_prefix = next(p for p in BACKBONE_PREFIXES if p[:-1] in modules)
    backbone = modules[model_prefix[:-1]]
    own = backbone.state_dict()
    prefix, weights = backbone_state(state, path)
    if not set(weights) & set(own):
        raise CheckpointError(
            f'{path} holds none of the backbone weights of {type(model).__name__} '
            f'(e.g. {next(iter(own), "?")!r}; expected under '
            f'{", ".join(repr(p) for p in BACKBONE_PREFIXES)}), found {key_prefixes(state)}:'
            ' was it trained with this config?')
    try:
        backbone.load_state_dict(weights)
    except RuntimeError as e:  # missing, unexpected or mismatched keys
        lines = [line[:500] for line in str(e).splitlines()]
        more = f'\n\t(+{len(lines) - 6} more)' if len(lines) > 6 else ''
        raise CheckpointError(f'{path} does not fit the backbone of the config (another '
                              'architecture or width?): ' + '\n'.join(lines[:6]) + more)
    others = {}
    if model_prefix:  # necks, heads, ... of a checkpoint with the same layout as the model
        model_state = model.state_dict()
        others = {k: v for k, v in state.items()
                  if k in model_state and not k.startswith(model_prefix)
                  and v.shape == model_state[k].shape}
        model.load_state_dict(others, strict=False)
    source = f"'{prefix}*'" if prefix else 'bare backbone keys'
    return (f'loaded {len(weights)} backbone tensors ({source}) and {len(others)} others '
            f'from {path}')
