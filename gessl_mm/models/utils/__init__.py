from .side_effects import SideEffectGuard

__all__ = ['SideEffectGuard']
