"""MoCo and DenseCL: a momentum encoder and a queue of keys written by every loss pass."""

from .base_adapter import SSL_ADAPTERS, SSLAdapter


@SSL_ADAPTERS.register_module('MoCo')
@SSL_ADAPTERS.register_module('DenseCL')
class QueueAdapter(SSLAdapter):
    """Muted passes do not write the queue (the base's ``_dequeue_and_enqueue``).

    The update's live pass cannot be the heads-only mode's recording pass: it writes this
    task's keys into the queue, and the task's later passes, which read the queue, would
    then meet their own positives as negatives.
    """

    @property
    def live_pass_may_record(self) -> bool:
        return False

    def muted_methods(self):
        return super().muted_methods() + [(self.base, '_dequeue_and_enqueue')]

