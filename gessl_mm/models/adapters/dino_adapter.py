"""DINO (this package's): a teacher, and a loss that moves its center in every pass."""
from .base_adapter import SSL_ADAPTERS, SSLAdapter


@SSL_ADAPTERS.register_module('DINO')
class DINOAdapter(SSLAdapter):
    """Besides its teacher (a momentum encoder, muted as every one), DINO's loss keeps a
    running center of the teacher's outputs and moves it in every pass: muted passes leave
    it where it is, so the center moves once per outer update, with the teacher."""

    def muted_methods(self):
        return super().muted_methods() + [(self.base.head.loss_module, 'update_center')]
