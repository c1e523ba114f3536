"""STL-10 read from its binary release (``stl10_binary/``)."""
import os.path as osp
from typing import Dict, List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .data_check import require_data

_STL10_URL = 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz'
_STL10_LAYOUT = """
{root}/
└── stl10_binary/        (stl10_binary.tar.gz, extracted)
    ├── class_names.txt
    ├── train_X.bin      5,000 labelled images
    ├── train_y.bin
    ├── test_X.bin       8,000 labelled images
    ├── test_y.bin
    └── unlabeled_X.bin  100,000 unlabelled images
"""


@DATASETS.register_module()
class STL10(BaseDataset):
    """`STL-10 <https://cs.stanford.edu/~acoates/stl10/>`_ (Coates et al. 2011), 96x96 RGB.

    Reads the binary release in ``data_root/stl10_binary/``: each ``*_X.bin`` holds uint8
    images stored channel by channel in column-major order, each ``*_y.bin`` the labels
    1-10. The images are memory-mapped and decoded per item, so the 100,000 unlabelled
    images (2.8 GB) are not loaded into memory.

    Items carry ``img`` (96, 96, 3) uint8 RGB (pipelines start after image loading, as for
    CIFAR) and, for labelled splits, ``gt_label`` (0-9).

    Args:
        data_root: the folder holding ``stl10_binary/``.
        split: ``'train'`` (5,000 labelled), ``'test'`` (8,000 labelled), ``'unlabeled'``
            (100,000) or ``'train+unlabeled'`` (the 105,000 images of self-supervised
            pretraining), or any ``'+'``-joined combination of the three.
        **kwargs: other arguments of mmpretrain's ``BaseDataset`` (pipeline, indices, ...).
    """
    METAINFO = dict(classes=('airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse',
                             'monkey', 'ship', 'truck'))
    PARTS = ('train', 'test', 'unlabeled')
    IMAGE_SHAPE = (3, 96, 96)
    base_folder = 'stl10_binary'

    def __init__(self, data_root: str = 'data/stl10', split: str = 'train', **kwargs) -> None:
        parts = split.split('+')
        if not parts or any(p not in self.PARTS for p in parts) or len(set(parts)) < len(parts):
            raise ValueError(f"STL10 split must be one of {self.PARTS} or a '+'-joined "
                             f"combination (e.g. 'train+unlabeled'), got {split!r}")
        files = [f'{self.base_folder}/{p}_X.bin' for p in parts]
        files += [f'{self.base_folder}/{p}_y.bin' for p in parts if p != 'unlabeled']
        require_data('STL-10', data_root, files, _STL10_LAYOUT,
                     how=f'Download {_STL10_URL} and extract it in {data_root.rstrip("/")}/.')
        self.split = split
        self.parts = parts
        self._images: Dict[str, np.ndarray] = {}
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _folder(self) -> str:
        return osp.join(self.data_root, self.base_folder)

    def _image_array(self, part: str) -> np.ndarray:
        """The memory-mapped (N, 3, 96, 96) images of ``part`` (column-major planes)."""
        if part not in self._images:
            path = osp.join(self._folder(), f'{part}_X.bin')
            size = int(np.prod(self.IMAGE_SHAPE))
            if osp.getsize(path) % size:
                raise ValueError(f'{path}: {osp.getsize(path)} bytes is not a whole number of '
                                 f'96x96x3 images; the file is truncated or not STL-10')
            self._images[part] = np.memmap(path, dtype=np.uint8, mode='r').reshape(
                -1, *self.IMAGE_SHAPE)
        return self._images[part]

    def load_data_list(self) -> List[dict]:
        data_list = []
        for part in self.parts:
            count = self._image_array(part).shape[0]
            if part == 'unlabeled':
                data_list += [dict(stl10_part=part, stl10_index=i) for i in range(count)]
                continue
            labels = np.fromfile(osp.join(self._folder(), f'{part}_y.bin'), dtype=np.uint8)
            if len(labels) != count or labels.min() < 1 or labels.max() > 10:
                raise ValueError(f'{self._folder()}/{part}_y.bin does not hold {count} labels '
                                 'in 1-10 (one per image of the _X.bin file)')
            data_list += [dict(stl10_part=part, stl10_index=i, gt_label=int(y) - 1)
                          for i, y in enumerate(labels)]
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        image = self._image_array(info.pop('stl10_part'))[info.pop('stl10_index')]
        info['img'] = np.ascontiguousarray(image.transpose(2, 1, 0))  # (C, W, H) -> (H, W, C)
        return info

    def __getstate__(self) -> dict:
        # Dataloader workers re-open the memory maps instead of receiving copies.
        state = self.__dict__.copy()
        state['_images'] = {}
        return state

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}']
