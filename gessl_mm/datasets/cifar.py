"""mmpretrain's CIFAR-10/100 read from a local folder, never downloaded."""
from mmpretrain.datasets import CIFAR10, CIFAR100
from mmpretrain.registry import DATASETS

from .data_check import require_data

_CIFAR_LAYOUT = """
{{root}}/
└── {folder}/  (the "python version" archive, extracted)
    ├── {files}
"""


def _check_cifar(cls, name: str, url: str, data_root: str, split: str) -> None:
    files = [f for f, _ in (cls.train_list if split == 'train' else cls.test_list)]
    everything = [f for f, _ in cls.train_list + cls.test_list] + [cls.meta['filename']]
    layout = _CIFAR_LAYOUT.format(folder=cls.base_folder,
                                  files='\n    ├── '.join(everything[:-1]) +
                                  f'\n    └── {everything[-1]}')
    require_data(name, data_root,
                 [f'{cls.base_folder}/{f}' for f in files + [cls.meta['filename']]], layout,
                 how=f'Download {url} and extract it in {data_root.rstrip("/")}/ (or set '
                 'download=True in the dataset config to let mmpretrain fetch it).')


@DATASETS.register_module()
class LocalCIFAR10(CIFAR10):
    """mmpretrain's :class:`~mmpretrain.datasets.CIFAR10` that only reads local files.

    Same layout (``data_root/cifar-10-batches-py/``), splits (``'train'``: 50,000 images,
    ``'test'``: 10,000) and items (``img`` (32, 32, 3) uint8 RGB, ``gt_label``), but a
    missing folder raises a :class:`FileNotFoundError` naming the path and the layout
    instead of downloading (``download=True`` restores mmpretrain's behaviour).
    """

    def __init__(self, data_root: str = 'data/cifar10', split: str = 'train',
                 download: bool = False, **kwargs) -> None:
        if not download and not kwargs.get('data_prefix'):
            _check_cifar(CIFAR10, 'CIFAR-10', self.url, data_root, split)
        super().__init__(data_root=data_root, split=split, download=download, **kwargs)


@DATASETS.register_module()
class LocalCIFAR100(CIFAR100):
    """mmpretrain's :class:`~mmpretrain.datasets.CIFAR100` that only reads local files.

    Layout ``data_root/cifar-100-python/``; see :class:`LocalCIFAR10`.
    """

    def __init__(self, data_root: str = 'data/cifar100', split: str = 'train',
                 download: bool = False, **kwargs) -> None:
        if not download and not kwargs.get('data_prefix'):
            _check_cifar(CIFAR100, 'CIFAR-100', self.url, data_root, split)
        super().__init__(data_root=data_root, split=split, download=download, **kwargs)
