from .dino_loss import DINOLoss
from .outer_losses import OUTER_LOSSES, build_outer_loss, kl_loss
from .vicreg_loss import VICRegLoss

__all__ = ['OUTER_LOSSES', 'build_outer_loss', 'kl_loss', 'DINOLoss', 'VICRegLoss']
