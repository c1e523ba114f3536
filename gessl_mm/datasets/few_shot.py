"""The few-shot benchmarks of the paper (§6.5): miniImageNet, CIFAR-FS and Omniglot.

Each split holds its own classes (meta-train / meta-val / meta-test), labelled 0..C-1 in
the sorted order of their class names. Self-supervised pretraining reads the ``train``
split without labels; ``tools/analysis/few_shot.py`` draws N-way K-shot episodes from the
``test`` split (classes never seen in pretraining).
"""
import os
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.fileio import list_from_file
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .data_check import require_data

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def _images(folder: str) -> List[str]:
    """Image files below ``folder`` (recursively), sorted."""
    found = []
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        found += [osp.join(parent, f) for f in sorted(files)
                  if f.lower().endswith(IMAGE_EXTENSIONS)]
    return found


class _ClassSplitDataset(BaseDataset):
    """Base of datasets whose splits are disjoint sets of classes (not registered).

    Subclasses give :meth:`_classes`: ``(class name, [image paths])`` pairs of the split.
    """
    NAME = ''
    SPLITS = ('train', 'val', 'test')

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__} split must be one of {self.SPLITS}, got '
                             f'{split!r}')
        self.split = split
        self._check(data_root)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _check(self, data_root: str) -> None:
        raise NotImplementedError

    def _classes(self) -> List[Tuple[str, List[str]]]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        classes = self._classes()
        empty = [name for name, files in classes if not files]
        if not classes or empty:
            raise FileNotFoundError(
                f'{self.NAME} split {self.split!r} under {self.data_root}: '
                + (f'no image in the class folders {empty[:5]}' if empty else 'no class found'))
        self._metainfo['classes'] = tuple(name for name, _ in classes)
        return [dict(img_path=path, gt_label=label)
                for label, (_, files) in enumerate(classes) for path in files]

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}']


def _folder_classes(folder: str) -> List[Tuple[str, List[str]]]:
    names = sorted(d for d in os.listdir(folder) if osp.isdir(osp.join(folder, d)))
    return [(name, _images(osp.join(folder, name))) for name in names]


_MINI_LAYOUT = """
{root}/
├── train/               64 classes (Ravi & Larochelle 2017 split), 600 images each
│   ├── n01532829/
│   │   ├── n0153282900000005.jpg
│   │   └── ...
│   └── ...
├── val/                 16 classes
└── test/                20 classes
or, as released with the split files:
{root}/
├── images/              all 60,000 images (n0153282900000005.jpg, ...)
├── train.csv            "filename,label" lines
├── val.csv
└── test.csv
"""


@DATASETS.register_module()
class MiniImageNet(_ClassSplitDataset):
    """miniImageNet (Vinyals et al. 2016; the split of Ravi & Larochelle 2017).

    100 classes of 600 images (84x84): 64 ``train``, 16 ``val`` and 20 ``test`` classes.
    Reads class folders per split, or ``images/`` with the ``{split}.csv`` files.

    Args:
        data_root: the dataset folder.
        split: ``'train'``, ``'val'`` or ``'test'``.
        **kwargs: other arguments of mmpretrain's ``BaseDataset``.
    """
    NAME = 'miniImageNet'

    def __init__(self, data_root: str = 'data/miniimagenet', split: str = 'train',
                 **kwargs) -> None:
        super().__init__(data_root, split, **kwargs)

    def _check(self, data_root: str) -> None:
        root = data_root.rstrip('/')
        if osp.isdir(osp.join(root, self.split)):
            self._csv: Optional[str] = None
        elif osp.isfile(osp.join(root, f'{self.split}.csv')) and \
                osp.isdir(osp.join(root, 'images')):
            self._csv = f'{self.split}.csv'
        else:
            require_data(self.NAME, data_root, [self.split], _MINI_LAYOUT)

    def _classes(self) -> List[Tuple[str, List[str]]]:
        if self._csv is None:
            return _folder_classes(osp.join(self.data_root, self.split))
        by_class = {}
        for line in list_from_file(osp.join(self.data_root, self._csv)):
            fields = line.strip().split(',')
            if len(fields) != 2 or fields[0] == 'filename':
                continue
            by_class.setdefault(fields[1], []).append(
                osp.join(self.data_root, 'images', fields[0]))
        return [(name, sorted(by_class[name])) for name in sorted(by_class)]


_CIFARFS_LAYOUT = """
{root}/
├── train/               64 classes (Bertinetto et al. 2019 split), 600 images each
│   ├── apple/
│   │   ├── apple_s_000022.png
│   │   └── ...
│   └── ...
├── val/                 16 classes
└── test/                20 classes
or, as released with the split files (R2D2's cifar100/ folder):
{root}/
├── data/                the 100 CIFAR-100 class folders
└── splits/bertinetto/
    ├── train.txt        class names, one a line
    ├── val.txt
    └── test.txt
"""


@DATASETS.register_module()
class CIFARFS(_ClassSplitDataset):
    """CIFAR-FS (Bertinetto et al. 2019): the 100 CIFAR-100 classes (32x32) split 64/16/20.

    Reads class folders per split, or ``data/`` with ``splits/bertinetto/{split}.txt``.

    Args:
        data_root: the dataset folder.
        split: ``'train'``, ``'val'`` or ``'test'``.
        **kwargs: other arguments of mmpretrain's ``BaseDataset``.
    """
    NAME = 'CIFAR-FS'

    def __init__(self, data_root: str = 'data/cifar-fs', split: str = 'train',
                 **kwargs) -> None:
        super().__init__(data_root, split, **kwargs)

    def _check(self, data_root: str) -> None:
        root = data_root.rstrip('/')
        split_file = osp.join('splits', 'bertinetto', f'{self.split}.txt')
        if osp.isdir(osp.join(root, self.split)):
            self._split_file: Optional[str] = None
        elif osp.isfile(osp.join(root, split_file)) and osp.isdir(osp.join(root, 'data')):
            self._split_file = split_file
        else:
            require_data(self.NAME, data_root, [self.split], _CIFARFS_LAYOUT)

    def _classes(self) -> List[Tuple[str, List[str]]]:
        if self._split_file is None:
            return _folder_classes(osp.join(self.data_root, self.split))
        names = sorted(n.strip() for n in
                       list_from_file(osp.join(self.data_root, self._split_file)) if n.strip())
        return [(name, _images(osp.join(self.data_root, 'data', name))) for name in names]


_OMNIGLOT_LAYOUT = """
{root}/  (images_background.zip and images_evaluation.zip, extracted)
├── images_background/   30 alphabets, 964 characters: the "train" split
│   ├── Alphabet_of_the_Magi/
│   │   ├── character01/
│   │   │   ├── 0709_01.png
│   │   │   └── ...      (20 drawings a character)
│   │   └── ...
│   └── ...
└── images_evaluation/   20 alphabets, 659 characters: the "test" split
"""


@DATASETS.register_module()
class Omniglot(_ClassSplitDataset):
    """Omniglot (Lake et al. 2015): 1,623 handwritten characters of 50 alphabets, 105x105.

    A class is a character (``alphabet/characterNN``). The ``train`` split is the
    background set (964 characters), the ``test`` split the evaluation set (659), as
    released by Lake et al.

    Args:
        data_root: the folder holding ``images_background/`` and ``images_evaluation/``.
        split: ``'train'`` (or ``'background'``) or ``'test'`` (or ``'evaluation'``).
        **kwargs: other arguments of mmpretrain's ``BaseDataset``.
    """
    NAME = 'Omniglot'
    SPLITS = ('train', 'test', 'background', 'evaluation')
    FOLDERS = dict(train='images_background', background='images_background',
                   test='images_evaluation', evaluation='images_evaluation')

    def __init__(self, data_root: str = 'data/omniglot', split: str = 'train',
                 **kwargs) -> None:
        super().__init__(data_root, split, **kwargs)

    def _check(self, data_root: str) -> None:
        require_data(self.NAME, data_root, [self.FOLDERS[self.split]], _OMNIGLOT_LAYOUT,
                     how='Download images_background.zip and images_evaluation.zip from '
                     'https://github.com/brendenlake/omniglot/tree/master/python.')

    def _classes(self) -> List[Tuple[str, List[str]]]:
        folder = osp.join(self.data_root, self.FOLDERS[self.split])
        classes = []
        for alphabet in sorted(os.listdir(folder)):
            if not osp.isdir(osp.join(folder, alphabet)):
                continue
            for name, files in _folder_classes(osp.join(folder, alphabet)):
                classes.append((f'{alphabet}/{name}', files))
        return classes
