from .base_task_head import BaseTaskHead
from .linear_task_head import LinearTaskHead
from .prototype_task_head import PrototypeTaskHead

__all__ = ['BaseTaskHead', 'LinearTaskHead', 'PrototypeTaskHead']
