from .outer_losses import OUTER_LOSSES, build_outer_loss, kl_loss

__all__ = ['OUTER_LOSSES', 'build_outer_loss', 'kl_loss']
