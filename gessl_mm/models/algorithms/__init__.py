from .dino import DINO
from .gessl import GeSSL
from .vicreg import VICReg

__all__ = ['GeSSL', 'DINO', 'VICReg']
