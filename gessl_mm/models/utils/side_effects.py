"""Keep the base algorithm's side effects to one pass per outer update."""
from contextlib import contextmanager
from typing import Iterator, List

import torch.distributed as torch_dist
from mmengine.model import BaseAveragedModel
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def _noop(*args, **kwargs) -> None:
    return None


def _not_initialized() -> bool:
    return False


_IS_INITIALIZED = torch_dist.is_initialized


class SideEffectGuard:
    """Mutes what a self-supervised algorithm changes besides its loss.

    GeSSL evaluates the base algorithm's loss many times per task (inner steps, target steps,
    finite differences). Only one of those passes per outer update may act like a plain
    training step; in every other (muted) pass:

    - BatchNorm normalises with batch statistics but does not update running statistics;
    - momentum encoders (``BaseAveragedModel``: BYOL, MoCo, MoCo v3) are not updated;
    - queues are not written (MoCo's ``_dequeue_and_enqueue``; SwAV's loss queue is read
      from a scratch copy);
    - collectives are skipped (``torch.distributed.is_initialized()`` reads False, which
      mmengine's ``all_gather``/``all_reduce`` consult), so inner and target steps, in
      forward and backward, are local to this process's task.

    Args:
        model: the base algorithm.
    """

    def __init__(self, model: nn.Module) -> None:
        modules = list(model.modules())
        self.batch_norms: List[_BatchNorm] = [
            m for m in modules if isinstance(m, _BatchNorm) and m.track_running_stats]
        self.averaged: List[nn.Module] = [m for m in modules if isinstance(m, BaseAveragedModel)]
        self.enqueuers: List[nn.Module] = [
            m for m in modules if callable(getattr(m, '_dequeue_and_enqueue', None))]
        self.queue_holders: List[nn.Module] = [
            m for m in modules
            if hasattr(m, 'queue') and not isinstance(getattr(m, 'queue'), nn.Module)
            and m not in self.enqueuers]
        self._muted = False

    @property
    def is_muted(self) -> bool:
        return self._muted

    def _set(self, muted: bool) -> None:
        for bn in self.batch_norms:
            bn.track_running_stats = not muted
        for module, name in [(m, 'update_parameters') for m in self.averaged] + \
                [(m, '_dequeue_and_enqueue') for m in self.enqueuers]:
            if muted:
                setattr(module, name, _noop)
            else:
                module.__dict__.pop(name, None)
        torch_dist.is_initialized = _not_initialized if muted else _IS_INITIALIZED
        self._muted = muted

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Mute side effects inside the block (re-entrant with :meth:`live`)."""
        previous = self._muted
        self._set(True)
        try:
            yield
        finally:
            self._set(previous)

    @contextmanager
    def live(self) -> Iterator[None]:
        """Let one pass inside a muted block act as a plain training step."""
        previous = self._muted
        self._set(False)
        try:
            yield
        finally:
            self._set(previous)

    @contextmanager
    def call(self) -> Iterator[None]:
        """Wrap one forward pass: while muted, queues are read from scratch copies."""
        if not self._muted:
            yield
            return
        saved = [(m, m.queue) for m in self.queue_holders if m.queue is not None]
        for module, queue in saved:
            module.queue = queue.clone()
        try:
            yield
        finally:
            for module, queue in saved:
                module.queue = queue
