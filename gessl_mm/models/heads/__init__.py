from .dino_head import DINOHead
from .vicreg_head import VICRegHead

__all__ = ['DINOHead', 'VICRegHead']
