from .dino_neck import DINONeck, WeightNormLinear

__all__ = ['DINONeck', 'WeightNormLinear']
