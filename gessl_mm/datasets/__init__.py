from .cifar import LocalCIFAR10, LocalCIFAR100, cifar_split, class_interleaved
from .data_check import require_data
from .digits import SklearnDigits, digits_split
from .few_shot import CIFARFS, MiniImageNet, Omniglot
from .imagenet import ImageNet100, LocalImageNet, TinyImageNet, write_imagenet_subset
from .stl10 import STL10

__all__ = [
    'SklearnDigits', 'digits_split', 'LocalCIFAR10', 'LocalCIFAR100', 'cifar_split',
    'class_interleaved', 'STL10', 'TinyImageNet', 'ImageNet100', 'LocalImageNet',
    'write_imagenet_subset', 'MiniImageNet', 'CIFARFS', 'Omniglot', 'require_data'
]
