"""Edits of detection transfer configs shared by the tools and the tests."""
from typing import Any, List, Optional, Sequence, Union

__all__ = ['find_strict_pretrained', 'set_pretrained', 'switch_norm']


def _walk(node: Any, path: str = ''):
    """Yield ``(path, dict)`` for every dict inside ``node`` (dicts and lists)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{path}[{i}]')


def switch_norm(cfg_node: Any, src: str = 'SyncBN', dst: str = 'BN') -> List[str]:
    """Replace every ``norm_cfg``-style ``dict(type=src, ...)`` in ``cfg_node`` by ``dst``.

    The single-device switch of the transfer configs, which use SyncBN (the
    self-supervised detection protocol): ``switch_norm(cfg.model)``. Returns the paths
    changed. (mmengine's Runner also reverts SyncBN layers to BN by itself when it runs
    without a distributed launcher.)
    """
    changed = []
    for path, node in list(_walk(cfg_node)):
        if node.get('type') == src:
            node['type'] = dst
            changed.append(path)
    return changed


def find_strict_pretrained(model_cfg: Any) -> List[tuple]:
    """``[(path, init_cfg)]`` of every ``StrictPretrained`` init_cfg in ``model_cfg``."""
    return [(path, node) for path, node in _walk(model_cfg)
            if node.get('type') == 'StrictPretrained']


def set_pretrained(model_cfg: Any, checkpoint: Optional[str] = None,
                   prefix: Optional[Union[str, Sequence[str]]] = None) -> List[str]:
    """Point every ``StrictPretrained`` init_cfg of ``model_cfg`` to ``checkpoint`` (and
    ``prefix``, if given; None leaves a setting as it is).

    Same as ``--cfg-options model.init_cfg.checkpoint=CKPT`` for the configs of
    ``configs/benchmarks/mmdet`` (one init_cfg, on the detector), and also finds init_cfgs
    placed elsewhere. Raises ``KeyError`` when there is none: the weights would not
    arrive. Returns the paths of the init_cfgs in ``model_cfg``.
    """
    found = find_strict_pretrained(model_cfg)
    if not found:
        raise KeyError("set_pretrained: the model config has no init_cfg of type "
                       "'StrictPretrained'; the pretrained checkpoint would not be loaded")
    for _, node in found:
        if checkpoint is not None:
            node['checkpoint'] = checkpoint
        if prefix is not None:
            node['prefix'] = prefix
    return [path for path, _ in found]
