"""CIFAR-10 / CIFAR-100 from a local folder in either layout users have, with a validation
split carved from the training images and class-balanced subsets.

Two layouts are read (detected, the official one first if both are there):

- the official python batches, ``data_root/cifar-10-batches-py/`` (``cifar-100-python/``);
- an image-folder tree, ``data_root/{train,test}/<class>/*.{png,jpg,...}``, class folders
  named as the official classes (e.g. a JPEG re-encoding of CIFAR-10 in this layout).

Either way every image is decoded once into one in-memory uint8 array per part (the 50,000
training and the 10,000 test images; cached per process, so a training set and a feature
bank of the same folder share it), and items carry ``img`` (32, 32, 3) uint8 RGB and
``gt_label`` in the official class order (alphabetical: for the folder tree, label = the
index of the folder name in the sorted class names).
"""
import functools
import os
import os.path as osp
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import CIFAR10_CATEGORIES, CIFAR100_CATEGORIES
from mmpretrain.registry import DATASETS

from .data_check import data_error_message

SPLITS = ('train', 'val', 'trainval', 'test')
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.ppm', '.webp')
IMAGE_SHAPE = (32, 32, 3)

_LAYOUTS = """
1. the official python batches (the extracted {archive}, {url}):
{{root}}/
└── {folder}/
    ├── {files}

2. an image-folder tree, one folder per class named as the official classes
   ({first}, ..., {last}; label order = sorted names = the official order):
{{root}}/
├── train/<class>/*.png|jpg   ({train:,} images)
└── test/<class>/*.png|jpg    ({test:,} images)
"""


def class_interleaved(indices: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``indices`` reordered rank-major, class-minor: the first image of every class, then
    the second of every class, ... (within a class, the given order is kept).

    Any prefix of the result is class-balanced (counts differ by at most one when the
    classes are), which is what ``num_images`` takes.
    """
    indices = np.asarray(indices, dtype=np.int64)
    sub = labels[indices]
    rank = np.empty(len(sub), dtype=np.int64)
    for c in np.unique(sub):
        members = sub == c
        rank[members] = np.arange(members.sum())
    return indices[np.lexsort((sub, rank))]


def cifar_split(labels: np.ndarray, split: str, val_fraction: float = 0.1,
                seed: int = 0) -> np.ndarray:
    """Indices of ``split`` into the training part's ``labels`` (``'trainval'``, ``'train'``
    or ``'val'``), in class-interleaved order (:func:`class_interleaved`).

    ``val`` holds ``round(val_fraction * n_c)`` images of every class ``c`` (5,000 of
    CIFAR-10's 50,000: 500 a class), drawn with a fixed seed; ``train`` the others.
    """
    if split not in ('train', 'val', 'trainval'):
        raise ValueError(f"split must be 'train', 'val' or 'trainval', got {split!r}")
    everything = np.arange(len(labels))
    if split == 'trainval':
        return class_interleaved(everything, labels)
    rng = np.random.RandomState(seed)
    is_val = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        is_val[members[rng.permutation(len(members))[:round(val_fraction * len(members))]]] = True
    return class_interleaved(everything[is_val if split == 'val' else ~is_val], labels)


def _decode(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert('RGB'))


@functools.lru_cache(maxsize=4)
def _read_image_folder(folder: str, classes: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) of ``folder/<class>/*``, decoded once.

    Raises:
        ValueError: the class folders are not ``classes``, a class folder holds no image, or
            an image does not decode to 32x32 (the message names the path).
    """
    found = sorted(d for d in os.listdir(folder) if osp.isdir(osp.join(folder, d)))
    if found != sorted(classes):
        missing, extra = sorted(set(classes) - set(found)), sorted(set(found) - set(classes))
        raise ValueError(f'{folder} must hold one folder per class, named as the {len(classes)} '
                         f'official classes; missing: {missing[:10]}, unexpected: {extra[:10]}')
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(f for f in os.listdir(osp.join(folder, name))
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise ValueError(f'{osp.join(folder, name)} holds no image '
                             f'({", ".join(IMAGE_EXTENSIONS)})')
        paths += [osp.join(folder, name, f) for f in files]
        labels += [label] * len(files)
    # PIL releases the GIL while decoding: threads decode in parallel.
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        try:
            images = list(pool.map(_decode, paths, chunksize=256))
        except Exception as error:
            raise ValueError(f'an image under {folder} does not decode: {error}') from error
    for path, image in zip(paths, images):
        if image.shape != IMAGE_SHAPE:
            raise ValueError(f'{path} is {image.shape[1]}x{image.shape[0]}, CIFAR images are 32x32')
    return np.stack(images), np.asarray(labels, dtype=np.int64)


@functools.lru_cache(maxsize=4)
def _read_batches(files: Tuple[str, ...], label_key: str) -> Tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) of the official python batch ``files``.

    Raises:
        ValueError: a file is not a CIFAR batch (the message names it).
    """
    images, labels = [], []
    for path in files:
        try:
            with open(path, 'rb') as f:
                entry = pickle.load(f, encoding='latin1')
            data = np.asarray(entry['data'], dtype=np.uint8).reshape(-1, 3, 32, 32)
            batch_labels = np.asarray(entry[label_key], dtype=np.int64)
        except Exception as error:
            raise ValueError(f'{path} is not a CIFAR python batch (a pickled dict with "data" '
                             f'(N, 3072) uint8 and "{label_key}"): {error!r}') from error
        if len(batch_labels) != len(data):
            raise ValueError(f'{path}: {len(data)} images but {len(batch_labels)} labels')
        images.append(data.transpose(0, 2, 3, 1))  # CHW -> HWC
        labels.append(batch_labels)
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


@DATASETS.register_module()
class LocalCIFAR10(BaseDataset):
    """CIFAR-10 read from ``data_root`` in either layout (see the module), never downloaded.

    Splits: ``'test'`` (10,000), ``'trainval'`` (the 50,000 training images), and from
    those a fixed, class-balanced ``'val'`` (5,000: 10% of each class) and ``'train'`` (the
    other 45,000), as :class:`~gessl_mm.datasets.SklearnDigits` names its splits: choose
    settings with ``train`` / ``val``, report with ``trainval`` / ``test``. (mmpretrain's
    ``CIFAR10`` calls all 50,000 ``'train'``; here that is ``'trainval'``.)

    Items come in class-interleaved order (:func:`class_interleaved`); within a class in
    the order of the batches, or of the sorted file names. Both layouts give the same items
    in the same order when the tree's file names follow the batches' order.

    Args:
        data_root: the folder holding ``cifar-10-batches-py/`` or ``train/`` and ``test/``.
        split: ``'train'``, ``'val'``, ``'trainval'`` or ``'test'``.
        num_images: keep only the first ``num_images`` images of the split: a fixed,
            class-balanced subset (e.g. 10,000 training images for a CPU run).
        download: if no layout is found, download the official archive into ``data_root``
            (mmpretrain's downloader) instead of raising.
        **kwargs: other arguments of mmpretrain's ``BaseDataset`` (pipeline, indices, ...).

    Raises:
        FileNotFoundError: neither layout is under ``data_root``, or a file of it is missing.
        ValueError: a bad ``split`` / ``num_images``, or a malformed folder or file. Both
            errors name the path and show both layouts.
    """
    METAINFO = dict(classes=CIFAR10_CATEGORIES)
    NAME = 'CIFAR-10'
    SPLITS = SPLITS
    base_folder = 'cifar-10-batches-py'
    train_files = ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4',
                   'data_batch_5')
    test_files = ('test_batch', )
    meta_file, meta_key, label_key = 'batches.meta', 'label_names', 'labels'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
    archive_md5 = 'c58f30108f718f92721af3b95e74349a'
    sizes = dict(train=50000, test=10000)

    def __init__(self, data_root: str = 'data/cifar10', split: str = 'trainval',
                 num_images: Optional[int] = None, download: bool = False, **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of {SPLITS}, got '
                             f'{split!r}')
        if num_images is not None and (int(num_images) != num_images or num_images < 1):
            raise ValueError(f'{type(self).__name__}: num_images must be a positive integer or '
                             f'None, got {num_images!r}')
        self.split, self.num_images, self.download = split, num_images, download
        kwargs.setdefault('test_mode', split == 'test')
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ layout
    @property
    def layouts(self) -> str:
        classes = self.METAINFO['classes']
        files = [*self.train_files, *self.test_files, self.meta_file]
        return _LAYOUTS.format(archive=osp.basename(self.url), url=self.url,
                               folder=self.base_folder,
                               files='\n    ├── '.join(files[:-1]) + f'\n    └── {files[-1]}',
                               first=classes[0], last=classes[-1], **self.sizes)

    def _error(self, cls, problem: str) -> Exception:
        how = (f'Download {self.url} and extract it in {self.data_root.rstrip("/")}/, or '
               'set download=True in the dataset config.')
        return cls(data_error_message(self.NAME, self.data_root, f'{self.NAME}: {problem}',
                                      self.layouts, how))

    def layout(self) -> str:
        """``'batches'`` or ``'folders'``, whichever is under ``data_root`` (batches first).

        Raises:
            FileNotFoundError: neither is (after downloading, with ``download=True``).
        """
        root = self.data_root
        if osp.isdir(osp.join(root, self.base_folder)):
            return 'batches'
        if osp.isdir(osp.join(root, 'train')) or osp.isdir(osp.join(root, 'test')):
            return 'folders'
        if self.download:
            from mmpretrain.datasets.utils import download_and_extract_archive
            download_and_extract_archive(self.url, root, filename=osp.basename(self.url),
                                         md5=self.archive_md5)
            return 'batches'
        where = '' if osp.isabs(root) else f' (from {os.getcwd()})'
        problem = (f'{osp.join(root, self.base_folder)} does not exist and neither do '
                   f'{osp.join(root, "train")} / {osp.join(root, "test")}{where}.')
        raise self._error(FileNotFoundError, problem)

    def read_part(self, part: str) -> Tuple[np.ndarray, np.ndarray]:
        """All images and labels of ``'train'`` (50,000) or ``'test'`` (10,000)."""
        classes = tuple(self.METAINFO['classes'])
        if self.layout() == 'folders':
            folder = osp.join(self.data_root, part)
            if not osp.isdir(folder):
                raise self._error(FileNotFoundError, f'{folder} does not exist (the image-'
                                  f'folder layout needs both train/ and test/).')
            try:
                return _read_image_folder(osp.abspath(folder), classes)
            except ValueError as error:
                raise self._error(ValueError, f'malformed image folder: {error}') from None
        folder = osp.join(self.data_root, self.base_folder)
        files = self.train_files if part == 'train' else self.test_files
        for name in (*files, self.meta_file):
            if not osp.isfile(osp.join(folder, name)):
                raise self._error(FileNotFoundError,
                                  f'{osp.join(folder, name)} does not exist.')
        try:
            self._check_meta(osp.join(folder, self.meta_file), classes)
            return _read_batches(tuple(osp.abspath(osp.join(folder, f)) for f in files),
                                 self.label_key)
        except ValueError as error:
            raise self._error(ValueError, f'malformed python batches: {error}') from None

    def _check_meta(self, path: str, classes: Sequence[str]) -> None:
        try:
            with open(path, 'rb') as f:
                names = tuple(pickle.load(f, encoding='latin1')[self.meta_key])
        except Exception as error:
            raise ValueError(f'{path} is not the batches\' metadata (a pickled dict with '
                             f'"{self.meta_key}"): {error!r}') from error
        if names != tuple(classes):
            raise ValueError(f'{path} names the classes {names[:5]}..., not the official '
                             f'{tuple(classes)[:5]}...')

    # ------------------------------------------------------------------ items
    def load_data_list(self) -> List[dict]:
        images, labels = self.read_part('test' if self.split == 'test' else 'train')
        if self.split == 'test':
            chosen = class_interleaved(np.arange(len(labels)), labels)
        else:
            chosen = cifar_split(labels, self.split)
        if self.num_images is not None:
            if self.num_images > len(chosen):
                raise ValueError(f'{type(self).__name__}: num_images={self.num_images} exceeds '
                                 f'the {len(chosen):,} images of split {self.split!r} under '
                                 f'{self.data_root}')
            chosen = chosen[:self.num_images]
        return [dict(img=images[i], gt_label=int(labels[i])) for i in chosen]


@DATASETS.register_module()
class LocalCIFAR100(LocalCIFAR10):
    """CIFAR-100 (fine labels) read from ``data_root`` in either layout: the official
    ``cifar-100-python/`` or ``{train,test}/<class>/*``; see :class:`LocalCIFAR10`
    (``'val'``: 50 images of each class).
    """
    METAINFO = dict(classes=CIFAR100_CATEGORIES)
    NAME = 'CIFAR-100'
    base_folder = 'cifar-100-python'
    train_files, test_files = ('train', ), ('test', )
    meta_file, meta_key, label_key = 'meta', 'fine_label_names', 'fine_labels'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'
    archive_md5 = 'eb9058c3a382ffc7106e4002c42a8d85'

    def __init__(self, data_root: str = 'data/cifar100', split: str = 'trainval',
                 **kwargs) -> None:
        super().__init__(data_root=data_root, split=split, **kwargs)
