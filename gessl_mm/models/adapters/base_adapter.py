"""What GeSSL must know about a base self-supervised algorithm, in one place per base type."""
import inspect
from contextlib import contextmanager
from typing import ContextManager, Dict, Iterator, List, Tuple, Union

import torch.distributed as torch_dist
from mmengine.model import BaseAveragedModel
from mmengine.registry import Registry
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm

from ..data_preprocessors import SSLTask

#: the name of an mmpretrain algorithm class -> its adapter (found along the class's MRO)
SSL_ADAPTERS = Registry('ssl adapter', locations=['gessl_mm.models.adapters'])

Params = Dict[str, Tensor]


def _noop(*args, **kwargs) -> None:
    return None


def _not_initialized() -> bool:
    return False


_IS_INITIALIZED = torch_dist.is_initialized


@SSL_ADAPTERS.register_module('BaseSelfSupervisor')
class SSLAdapter:
    """How GeSSL runs a self-supervised algorithm (``base``) as a function of its weights.

    GeSSL evaluates the base's loss many times per task (inner steps, target steps, finite
    differences) and embeds the task's views for the task head. The adapter says

    - how the base takes a task's views (:meth:`loss_inputs`) and where its embedding is
      (:meth:`backbone_features`, :meth:`neck_features`);
    - which modules never adapt in a task (:attr:`frozen_modules`: momentum encoders) and
      whether the update's live pass may be the heads-only mode's recording pass
      (:attr:`live_pass_may_record`);
    - how to mute the base's side effects: only one pass per outer update may act like a
      plain training step (:meth:`live`); in every other (:meth:`muted`) pass BatchNorm
      normalises with batch statistics without updating its running statistics, momentum
      encoders (``BaseAveragedModel``) do not move, and collectives are skipped, so inner
      and target steps are local to this process's task. Subclasses add queues.

    Collectives are skipped by making ``torch.distributed.is_initialized()`` read False
    inside muted blocks, which mmengine's ``all_gather``/``all_reduce`` consult: torch has
    no per-call switch, and the base's collectives sit inside mmpretrain's code.

    Args:
        base: the algorithm.
    """
    def __init__(self, base: nn.Module) -> None:
        self.base = base
        modules = list(base.modules())
        self.batch_norms: List[_BatchNorm] = [
            m for m in modules if isinstance(m, _BatchNorm) and m.track_running_stats]
        self.averaged: List[nn.Module] = [m for m in modules if isinstance(m, BaseAveragedModel)]
        self.frozen_modules: Dict[str, nn.Module] = {
            n: m for n, m in base.named_modules() if m in self.averaged}
        # functional_call's tie_weights: only for a parameter that two modules share. A
        # module registered under two names (SwAVNeck's `norm`, also in `projection_neck`)
        # sees the new value under both anyway, and tie_weights would leave the swapped-in
        # tensor in the module after the call (torch restores the alias from itself).
        self.tie_weights = _shares_parameters(base)
        # Masked image models embed with mask=None (all patches), not as in their loss.
        self.backbone_kwargs = (
            dict(mask=None) if 'mask' in inspect.signature(base.backbone.forward).parameters
            else {})
        self._muted = False

    @property
    def loss_shares_backbone_call(self) -> bool:
        """Whether the backbone's embedding of an image is the output its loss computed
        (so a frozen backbone's recorded loss pass can serve the task head)."""
        return not self.backbone_kwargs

    @property
    def live_pass_may_record(self) -> bool:
        """Whether the heads-only mode's one backbone forward at theta may be the update's
        live pass. A momentum encoder's update is harmless there: it is a frozen module, so
        the task's later passes replay the outputs recorded in this same pass (and a plain
        step of BYOL or MoCo v3 also reads its target after the update). A queue is not
        (see :class:`QueueAdapter`)."""
        return True

    # ------------------------------------------------------------- the base as a function
    def loss_inputs(self, task: SSLTask) -> Union[List[Tensor], Tensor]:
        """The support views in the form the base's ``loss`` takes."""
        return task.support

    def loss(self, params: Params, inputs: Union[List[Tensor], Tensor],
             data_samples) -> Tensor:
        """The base's loss at ``params`` on ``inputs`` (from :meth:`loss_inputs`)."""
        losses = functional_call(self.base, params, (inputs, data_samples), dict(mode='loss'),
                                 tie_weights=self.tie_weights)
        return self.base.parse_losses(losses)[0]

    def backbone_features(self, params: Params, images: Tensor):
        """The backbone's output for ``images`` at ``params`` (the backbone's own names)."""
        return functional_call(self.base.backbone, params, (images, ), self.backbone_kwargs,
                               tie_weights=self.tie_weights)

    def neck_features(self, params: Params, features) -> Tensor:
        """The neck's output for the backbone's ``features`` at ``params``."""
        return functional_call(self.base.neck, params, (features, ),
                               tie_weights=self.tie_weights)

    # ---------------------------------------------------------------- side effects
    def muted(self) -> ContextManager[None]:
        """Mute side effects inside the block (re-entrant with :meth:`live`)."""
        return self._muting(True)

    def live(self) -> ContextManager[None]:
        """Let one pass inside a muted block act as a plain training step."""
        return self._muting(False)

    @contextmanager
    def _muting(self, muted: bool) -> Iterator[None]:
        previous = self._muted
        self._set_muted(muted)
        try:
            yield
        finally:
            self._set_muted(previous)

    @contextmanager
    def forward_pass(self) -> Iterator[None]:
        """Wrap one forward pass of the base (subclasses protect state it reads)."""
        yield

    def _set_muted(self, muted: bool) -> None:
        for bn in self.batch_norms:
            bn.track_running_stats = not muted
        torch_dist.is_initialized = _not_initialized if muted else _IS_INITIALIZED
        if muted != self._muted:
            for module, name in self.muted_methods():
                _mute_method(module, name, muted)
        self._muted = muted

    def muted_methods(self) -> List[Tuple[nn.Module, str]]:
        """The ``(module, method name)`` calls that do nothing in muted passes: momentum
        encoders' ``update_parameters`` (subclasses add theirs)."""
        return [(m, 'update_parameters') for m in self.averaged]


def _mute_method(module: nn.Module, name: str, muted: bool) -> None:
    """Make ``module.<name>(...)`` do nothing (an instance attribute over the class's), or
    restore what it was."""
    saved = f'_gessl_unmuted_{name}'
    if muted:
        module.__dict__[saved] = module.__dict__.get(name)
        setattr(module, name, _noop)
    else:
        previous = module.__dict__.pop(saved, None)
        module.__dict__.pop(name, None)
        if previous is not None:
            setattr(module, name, previous)


def _shares_parameters(module: nn.Module) -> bool:
    """Whether two distinct submodules of ``module`` hold the same parameter."""
    owners: Dict[int, nn.Module] = {}
    for submodule in module.modules():  # each module object once, however often registered
        for param in submodule._parameters.values():
            if param is not None and owners.setdefault(id(param), submodule) is not submodule:
                return True
    return False


def build_adapter(base: nn.Module) -> SSLAdapter:
    """The adapter registered for the nearest class of ``base`` along its MRO."""
    for cls in type(base).__mro__:
        adapter = SSL_ADAPTERS.get(cls.__name__) if cls.__name__ in SSL_ADAPTERS else None
        if adapter is not None:
            return adapter(base)
    raise TypeError(f'no GeSSL adapter for {type(base).__name__}')
