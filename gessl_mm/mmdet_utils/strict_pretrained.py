"""Load pretrained weights into a module and fail loudly when they do not fit.

mmengine's ``dict(type='Pretrained', ...)`` loads with ``strict=False``: a wrong prefix, a
missing stage or a shape mismatch only logs a warning, and the detector silently trains
(part of) its backbone from scratch. :class:`StrictPretrainedInit`, registered as
``'StrictPretrained'`` in mmengine's ``WEIGHT_INITIALIZERS`` (so every scope, mmdet's and
mmpretrain's included, finds it), raises :class:`PretrainedMismatchError` listing every
missing, unexpected and shape-mismatched key instead.

It can be put on the module that receives the weights (like ``'Pretrained'``) or, as the
transfer configs of this project do, on the whole detector with a ``mapping`` that sends
the backbone's keys to their places, e.g. for R50-C4 (layer4 lives in the RoI head)::

    model = dict(
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='work_dirs/gessl_r50/epoch_200.pth',
            prefix=('base.backbone.', 'backbone.', ''),
            mapping={'layer4.': 'roi_head.shared_head.layer4.', '': 'backbone.'}),
        backbone=dict(..., init_cfg=None),
        ...)

On the detector, one key (``model.init_cfg.checkpoint``) selects the checkpoint for every
part, and the weights are loaded after every submodule has initialised itself (see
:class:`StrictPretrainedInit`), which also protects them from modules that
re-initialise parameters in their own ``init_weights`` (mmpretrain's ViT resets
``pos_embed`` unless its own ``init_cfg`` is ``'Pretrained'``).
"""
import fnmatch
import logging
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule, is_model_wrapper
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from ..utils.checkpoint import BACKBONE_PREFIXES as GESSL_BACKBONE_PREFIXES
from ..utils.checkpoint import DDP_REVISE_KEYS, key_prefixes, read_checkpoint

__all__ = ['PretrainedMismatchError', 'StrictPretrainedInit', 'load_pretrained_strict',
           'GESSL_BACKBONE_PREFIXES']

_MAX_LISTED = 100  # keys listed per problem in the error message
_SIZE_MISMATCH = re.compile(r'size mismatch for ([^:]+): copying a param with shape '
                            r'(.+) from checkpoint, the shape in current model is (.+)\.$')


class PretrainedMismatchError(RuntimeError):
    """The checkpoint's keys or shapes do not fit the module.

    Attributes:
        missing (list[str]): model keys (relative to the initialised module) that no
            checkpoint key fills.
        unexpected (list[str]): checkpoint keys (full names) that have no place in the
            model.
        mismatched (list[tuple]): ``(model key, checkpoint shape, model shape)``.
        errors (list[str]): other errors reported by ``load_state_dict``.
    """

    def __init__(self, message: str, missing: Sequence[str] = (),
                 unexpected: Sequence[str] = (), mismatched: Sequence[tuple] = (),
                 errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = list(missing)
        self.unexpected = list(unexpected)
        self.mismatched = list(mismatched)
        self.errors = list(errors)


def _matches(key: str, patterns: Iterable[str]) -> bool:
    """``key`` starts with one of ``patterns`` or matches it as a glob (``*.norm.*``)."""
    return any(key.startswith(p) or fnmatch.fnmatchcase(key, p) for p in patterns)


def _as_tuple(value: Union[None, str, Iterable[str]]) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value, )
    return tuple(value)


def _shape(text: str) -> str:
    """``'torch.Size([8, 3])'`` -> ``'(8, 3)'``."""
    found = re.fullmatch(r'torch\.Size\(\[(.*)\]\)', text.strip())
    return f'({found.group(1)})' if found else text


def _listing(title: str, lines: List[str]) -> str:
    shown = lines[:_MAX_LISTED]
    more = len(lines) - len(shown)
    text = f'\n  {title} ({len(lines)}):\n' + '\n'.join(f'    {line}' for line in shown)
    if more:
        text += f'\n    ... and {more} more (see the exception\'s attributes)'
    return text


def _normalise_mapping(mapping) -> List[Tuple[str, str]]:
    """``{src: dst}`` or ``[(src, dst), ...]`` sorted by decreasing ``src`` length."""
    if mapping is None:
        pairs = [('', '')]
    elif isinstance(mapping, dict):
        pairs = list(mapping.items())
    else:
        pairs = [tuple(p) for p in mapping]
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise TypeError(f'StrictPretrained: mapping entries must be (source prefix, '
                            f'target prefix) strings, got {pair!r}')
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def _load_state(module: nn.Module, state: 'OrderedDict[str, torch.Tensor]'
                ) -> Tuple[List[str], List[str], List[str]]:
    """``module.load_state_dict(state, strict=True)`` that reports instead of raising.

    Goes through every submodule's ``_load_from_state_dict`` as torch does, so load
    pre-hooks run (mmpretrain's ViT resizes ``pos_embed`` to its own grid there).
    """
    missing: List[str] = []
    unexpected: List[str] = []
    errors: List[str] = []
    state = OrderedDict(state)

    def load(mod: nn.Module, prefix: str = '') -> None:
        if is_model_wrapper(mod):
            mod = mod.module
        mod._load_from_state_dict(state, prefix, {}, True, missing, unexpected, errors)
        for name, child in mod._modules.items():
            if child is not None:
                load(child, prefix + name + '.')

    load(module)
    return missing, unexpected, errors


def load_pretrained_strict(module: nn.Module,
                           checkpoint: str,
                           prefix: Union[str, Sequence[str]] = '',
                           mapping: Union[None, Dict[str, str], Sequence[Tuple[str,
                                                                              str]]] = None,
                           ignore_missing: Sequence[str] = (),
                           ignore_unexpected: Sequence[str] = (),
                           map_location: str = 'cpu',
                           revise_keys: Sequence[Tuple[str, str]] = DDP_REVISE_KEYS,
                           ) -> Dict[str, str]:
    """Load ``checkpoint`` into ``module``; raise :class:`PretrainedMismatchError` unless
    every key fits.

    Args:
        module: the module that receives the weights.
        checkpoint: path or URL (anything mmengine's ``CheckpointLoader`` reads); a
            missing or unreadable one raises
            :class:`~gessl_mm.utils.checkpoint.CheckpointError` naming it.
        prefix: the part of the checkpoint to load: keys that start with it, with it
            removed. A sequence means candidates, tried in order: the first one that
            some key starts with is used (``''`` always matches).
        mapping: ``{source prefix: target prefix}`` applied to the keys after ``prefix``
            is removed; the longest matching source prefix wins. A key that matches none
            is unexpected. Model keys under a target prefix that nothing fills are
            missing; the rest of the model (new heads) is not checked. Default
            ``{'': ''}``: the keys are the module's own.
        ignore_missing: model keys (relative to ``module``) that may stay unfilled,
            as prefixes or globs, e.g. ``('fc.', '*.num_batches_tracked')``.
        ignore_unexpected: checkpoint keys (after ``prefix``) that may be dropped, as
            prefixes or globs.
        map_location: as :func:`torch.load`.
        revise_keys: regex substitutions applied to the checkpoint's keys first
            (default: remove a DDP ``module.``).

    Returns:
        dict: model key -> checkpoint key of every loaded tensor.
    """
    pairs = _normalise_mapping(mapping)
    candidates = _as_tuple(prefix) or ('', )
    ckpt_state, _ = read_checkpoint(checkpoint, map_location, revise_keys)

    used = next((p for p in candidates if any(k.startswith(p) for k in ckpt_state)), None)
    model_keys = list(module.state_dict().keys())
    targets = [dst for _, dst in pairs]
    settings = (f'prefix {candidates[0]!r}' if len(candidates) == 1 else
                f'prefix candidates {candidates!r}')
    if mapping is not None:
        settings += f', mapping {dict(pairs)!r}'
    if used is None:
        expected = [k for k in model_keys if _matches(k, targets)]
        raise PretrainedMismatchError(
            f'StrictPretrained: no key of {checkpoint} starts with '
            f'{" or ".join(repr(p) for p in candidates)} ({settings}), so nothing would be '
            f'loaded into {type(module).__name__}. The checkpoint\'s keys start with: '
            f'{key_prefixes(ckpt_state)}. Set `prefix` to the part that holds the backbone '
            "('base.backbone.' for GeSSL checkpoints, '' for backbone-only files)."
            + _listing('model keys left without weights', expected),
            missing=expected)

    state: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    origin: Dict[str, str] = {}
    unexpected: List[str] = []
    for key, value in ckpt_state.items():
        if not key.startswith(used):
            continue
        rel = key[len(used):]
        if _matches(rel, ignore_unexpected):
            continue
        dst = next((tgt + rel[len(src):] for src, tgt in pairs if rel.startswith(src)), None)
        if dst is None:
            unexpected.append(f'{key} (matches no source prefix of the mapping)')
            continue
        state[dst] = value
        origin[dst] = key

    missing_all, unexpected_dst, errors = _load_state(module, state)
    unexpected += [f'{origin.get(k, k)} -> {k} (no such key in {type(module).__name__})'
                   for k in unexpected_dst]

    def expected_source(model_key: str) -> str:
        for src, tgt in sorted(pairs, key=lambda p: len(p[1]), reverse=True):
            if model_key.startswith(tgt):
                return used + src + model_key[len(tgt):]
        return '?'

    missing = [k for k in missing_all if _matches(k, targets) and not _matches(k, ignore_missing)]
    mismatched, other_errors = [], []
    for err in errors:
        found = _SIZE_MISMATCH.search(err.strip())
        if found:
            key, ckpt_shape, model_shape = found.groups()
            mismatched.append((key, _shape(ckpt_shape), _shape(model_shape)))
        else:
            other_errors.append(err)

    if missing or unexpected or mismatched or other_errors:
        message = (f'StrictPretrained: the weights of {checkpoint} do not fit '
                   f'{type(module).__name__} ({settings}; used prefix {used!r}); refusing to '
                   'go on with partly initialised weights.')
        if missing:
            message += _listing('missing: model keys that no checkpoint key fills',
                                [f'{k} (expected checkpoint key {expected_source(k)})'
                                 for k in missing])
        if unexpected:
            message += _listing('unexpected: checkpoint keys without a place in the model',
                                unexpected)
        if mismatched:
            message += _listing('shape mismatch: model key, checkpoint shape vs model shape',
                                [f'{k} (from {origin.get(k, "?")}): {a} vs {b}'
                                 for k, a, b in mismatched])
        if other_errors:
            message += _listing('other errors', other_errors)
        message += (f'\n  The checkpoint\'s keys start with: {key_prefixes(ckpt_state)}.'
                    '\n  Keys skipped on purpose go in ignore_missing=(...) (model keys) or '
                    'ignore_unexpected=(...) (checkpoint keys after the prefix).')
        raise PretrainedMismatchError(message, missing=missing, unexpected=unexpected,
                                      mismatched=mismatched, errors=other_errors)

    # Here every missing key under a target prefix is one that ignore_missing allows.
    ignored = len([k for k in missing_all if _matches(k, targets)])
    print_log(
        f'StrictPretrained: loaded {len(state)} tensors into {type(module).__name__} from '
        f'{checkpoint} (prefix {used!r}'
        + (f', {", ".join(f"{s!r} -> {t!r}" for s, t in pairs)}' if mapping is not None
           else '') + '); every expected key arrived'
        + (f', {ignored} ignored by ignore_missing' if ignored else '') + '.',
        logger='current', level=logging.INFO)
    return origin


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """``init_cfg=dict(type='StrictPretrained', checkpoint=..., ...)``.

    Arguments as :func:`load_pretrained_strict`. Unlike mmengine's ``'Pretrained'``, it
    raises :class:`PretrainedMismatchError` (listing the keys) when a key is missing,
    unexpected or has the wrong shape.

    Precedence is that of ``'Pretrained'``: :class:`~mmengine.model.BaseModule` applies
    ``'Pretrained'`` after the submodules' own ``init_weights``, but any other initialiser
    before them, where they would overwrite the loaded weights. So this one first runs the
    submodules' ``init_weights`` itself (BaseModule then skips them), then loads. Only
    ``init_weights`` code of the initialised module itself that runs after its
    ``super().init_weights()`` comes later; put the initialiser on a parent (the
    detector) when that code touches loaded weights.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Union[str, Sequence[str]] = '',
                 mapping: Optional[Union[Dict[str, str], Sequence[Tuple[str, str]]]] = None,
                 ignore_missing: Sequence[str] = (),
                 ignore_unexpected: Sequence[str] = (),
                 map_location: str = 'cpu',
                 revise_keys: Sequence[Tuple[str, str]] = DDP_REVISE_KEYS) -> None:
        if not checkpoint or not isinstance(checkpoint, str):
            raise ValueError(f'StrictPretrained: checkpoint must be a path or URL, got '
                             f'{checkpoint!r}')
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.mapping = mapping
        self.ignore_missing = _as_tuple(ignore_missing)
        self.ignore_unexpected = _as_tuple(ignore_unexpected)
        self.map_location = map_location
        self.revise_keys = [tuple(p) for p in revise_keys]

    def __call__(self, module: nn.Module) -> None:
        self._init_children(module)
        load_pretrained_strict(module, self.checkpoint, prefix=self.prefix,
                               mapping=self.mapping, ignore_missing=self.ignore_missing,
                               ignore_unexpected=self.ignore_unexpected,
                               map_location=self.map_location, revise_keys=self.revise_keys)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    @staticmethod
    def _init_children(module: nn.Module) -> None:
        """What ``BaseModule.init_weights`` does for the children, done before the load."""
        for child in module.children():
            if is_model_wrapper(child) and not hasattr(child, 'init_weights'):
                child = child.module
            if not hasattr(child, 'init_weights') or getattr(child, 'is_init', False):
                continue
            child.init_weights()
            if hasattr(child, '_params_init_info'):
                update_init_info(child, init_info='Initialized by user-defined `init_weights`'
                                 f' in {child.__class__.__name__} ')
            if not isinstance(child, BaseModule):
                # BaseModule marks itself; others (mmcv's ConvModule) would run again.
                child.is_init = True

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
