"""SwAV: a neck that takes a list of feature maps, and a loss that reads and writes a queue."""
from contextlib import contextmanager
from typing import Iterator

from torch import Tensor, nn

from .base_adapter import SSL_ADAPTERS, Params, SSLAdapter


@SSL_ADAPTERS.register_module('SwAV')
class SwAVAdapter(SSLAdapter):
    """SwAV's loss keeps a queue of past projections (installed by mmpretrain's
    ``SwAVHook`` on ``head.loss_module.queue``) and writes it in every pass: muted passes
    read it from a scratch copy. The live pass cannot be the heads-only mode's recording
    pass (see :class:`QueueAdapter`)."""

    def __init__(self, base: nn.Module) -> None:
        super().__init__(base)
        self.loss_module = base.head.loss_module

    @property
    def live_pass_may_record(self) -> bool:
        return False

    def neck_features(self, params: Params, features) -> Tensor:
        return super().neck_features(params, [features])

    @contextmanager
    def forward_pass(self) -> Iterator[None]:
        queue = self.loss_module.queue if self._muted else None
        if queue is not None:
            self.loss_module.queue = queue.clone()
        try:
            yield
        finally:
            if queue is not None:
                self.loss_module.queue = queue
