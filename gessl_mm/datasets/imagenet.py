"""ImageNet, ImageNet-100 and Tiny ImageNet read from local folders, with the ImageNet
1% / 10% subset annotation files of the semi-supervised protocol."""
import os
import os.path as osp
from typing import List, Union

from mmengine.fileio import list_from_file
from mmpretrain.datasets import BaseDataset, CustomDataset, ImageNet
from mmpretrain.registry import DATASETS

from .data_check import require_data

_IMAGENET_LAYOUT = """
{root}/
├── train/
│   ├── n01440764/
│   │   ├── n01440764_10026.JPEG
│   │   └── ...
│   └── ...              (1,000 class folders)
├── val/                 (50,000 images: in class folders, or flat with meta/val.txt)
└── meta/                (optional: mmpretrain's train.txt / val.txt, "path label" lines;
    ├── train.txt         needed for a flat val/; the semi-supervised benchmarks also
    ├── val.txt           need train_1percent.txt and train_10percent.txt)
    ├── train_1percent.txt
    └── train_10percent.txt
"""
_SUBSET_HOW = """
The 1% and 10% subsets are the image lists of SimCLR
(https://github.com/google-research/simclr/tree/master/imagenet_subsets: 1percent.txt,
10percent.txt). Turn one into an annotation file with
  python -c "from gessl_mm.datasets import write_imagenet_subset as w; w('1percent.txt', \\
    'data/imagenet/meta/train_1percent.txt', 'data/imagenet/train')"
"""


@DATASETS.register_module()
class LocalImageNet(ImageNet):
    """mmpretrain's :class:`~mmpretrain.datasets.ImageNet` with a clear error for missing data.

    Same layout, splits and annotation files as mmpretrain; the split folder (or
    ``data_prefix``) and an explicit ``ann_file`` (e.g. ``meta/train_1percent.txt`` for the
    semi-supervised benchmark, see :func:`write_imagenet_subset`) must exist under
    ``data_root``, or a :class:`FileNotFoundError` shows the expected layout.
    """

    def __init__(self, data_root: str = 'data/imagenet', split: str = '',
                 data_prefix: Union[str, dict] = '', ann_file: str = '', **kwargs) -> None:
        prefix = data_prefix.get('img_path', '') if isinstance(data_prefix, dict) else \
            data_prefix
        paths = [prefix or split or '']
        how = None
        if ann_file:
            paths.append(ann_file)
            if 'percent' in ann_file:
                how = _SUBSET_HOW
        require_data('ImageNet', data_root, paths, _IMAGENET_LAYOUT, how=how or
                     'Download ILSVRC2012 from https://image-net.org (train and val images).')
        super().__init__(data_root=data_root, split=split, data_prefix=data_prefix,
                         ann_file=ann_file, **kwargs)


def write_imagenet_subset(subset_list: str, out_file: str,
                          train_dir: str = 'data/imagenet/train') -> int:
    """Write an mmpretrain annotation file for a subset of the ImageNet training set.

    Args:
        subset_list: a list of training image names, one a line (``n01440764_10026.JPEG``),
            e.g. SimCLR's ``1percent.txt`` / ``10percent.txt``.
        out_file: the annotation file to write, lines ``n01440764/n01440764_10026.JPEG 0``
            (paths relative to ``train/``, labels the index of the class in the sorted class
            folders of ``train_dir``, as mmpretrain's ``meta/train.txt``).
        train_dir: the ImageNet training folder (one folder per class).

    Returns:
        int: the number of images written.
    """
    if not osp.isdir(train_dir):
        raise FileNotFoundError(f'{train_dir} does not exist: the ImageNet training folder '
                                '(one folder per class) gives the class indices')
    classes = sorted(d for d in os.listdir(train_dir) if osp.isdir(osp.join(train_dir, d)))
    index = {c: i for i, c in enumerate(classes)}
    lines = []
    for name in list_from_file(subset_list):
        name = osp.basename(name.strip())
        if not name:
            continue
        wnid = name.split('_')[0]
        if wnid not in index:
            raise ValueError(f'{subset_list}: {name} belongs to no class folder of {train_dir}')
        lines.append(f'{wnid}/{name} {index[wnid]}')
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)


_IMAGENET100_LAYOUT = """
{root}/
├── train/
│   ├── n01558993/       (the 100 classes of Tian et al. 2020, CMC's imagenet100.txt)
│   │   ├── n01558993_10045.JPEG
│   │   └── ...
│   └── ...
└── val/
    ├── n01558993/
    └── ...
"""


@DATASETS.register_module()
class ImageNet100(CustomDataset):
    """ImageNet-100 (Tian et al. 2020): 100 ImageNet classes in class folders.

    Args:
        data_root: the folder holding ``train/`` and ``val/``.
        split: ``'train'`` (about 126,000 images) or ``'val'`` (5,000).
        **kwargs: other arguments of mmpretrain's ``CustomDataset`` (``ann_file`` with
            "path label" lines relative to the split folder, pipeline, ...).
    """
    SPLITS = ('train', 'val')

    def __init__(self, data_root: str = 'data/imagenet100', split: str = 'train',
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'ImageNet100 split must be one of {self.SPLITS}, got {split!r}')
        self.split = split
        data_prefix = kwargs.pop('data_prefix', '') or split
        prefix = data_prefix.get('img_path', '') if isinstance(data_prefix, dict) else \
            data_prefix
        paths = [prefix] + ([kwargs['ann_file']] if kwargs.get('ann_file') else [])
        require_data('ImageNet-100', data_root, paths, _IMAGENET100_LAYOUT,
                     how='Copy the 100 classes listed in CMC\'s imagenet100.txt '
                     '(https://github.com/HobbitLong/CMC) from ImageNet train/ and val/.')
        kwargs.setdefault('extensions', ImageNet.IMG_EXTENSIONS)
        super().__init__(data_root=data_root, data_prefix=data_prefix, **kwargs)


_TINY_LAYOUT = """
{root}/  (tiny-imagenet-200.zip, extracted)
├── wnids.txt            the 200 class ids
├── train/
│   ├── n01443537/
│   │   └── images/
│   │       ├── n01443537_0.JPEG
│   │       └── ...      (500 images a class)
│   └── ...
└── val/
    ├── val_annotations.txt   "val_0.JPEG<TAB>n03444034<TAB>..." lines
    └── images/
        ├── val_0.JPEG
        └── ...          (10,000 images)
"""


@DATASETS.register_module()
class TinyImageNet(BaseDataset):
    """Tiny ImageNet (Le & Yang 2015): 200 classes, 64x64, as released (no reorganising).

    Class indices follow the sorted class ids of ``wnids.txt``. The released test split
    has no labels; the labelled ``val`` split (50 images a class) is the evaluation set.

    Args:
        data_root: the extracted ``tiny-imagenet-200`` folder.
        split: ``'train'`` (100,000 images) or ``'val'`` (10,000).
        **kwargs: other arguments of mmpretrain's ``BaseDataset``.
    """
    SPLITS = ('train', 'val')

    def __init__(self, data_root: str = 'data/tiny-imagenet-200', split: str = 'train',
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'TinyImageNet split must be one of {self.SPLITS}, got {split!r}')
        paths = ['wnids.txt', 'train'] if split == 'train' else \
            ['wnids.txt', 'val/val_annotations.txt', 'val/images']
        require_data('Tiny ImageNet', data_root, paths, _TINY_LAYOUT,
                     how='Download http://cs231n.stanford.edu/tiny-imagenet-200.zip and '
                     f'extract it so that its folder is {data_root.rstrip("/")}/.')
        self.split = split
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        wnids = sorted(w.strip() for w in list_from_file(osp.join(self.data_root, 'wnids.txt'))
                       if w.strip())
        self._metainfo['classes'] = tuple(wnids)
        index = {w: i for i, w in enumerate(wnids)}
        data_list = []
        if self.split == 'train':
            for wnid in wnids:
                folder = osp.join(self.data_root, 'train', wnid, 'images')
                if not osp.isdir(folder):
                    raise FileNotFoundError(f'Tiny ImageNet: {folder} does not exist (a class '
                                            'of wnids.txt without training images)')
                data_list += [dict(img_path=osp.join(folder, f), gt_label=index[wnid])
                              for f in sorted(os.listdir(folder))
                              if f.lower().endswith(('.jpeg', '.jpg', '.png'))]
        else:
            annotations = osp.join(self.data_root, 'val', 'val_annotations.txt')
            for line in list_from_file(annotations):
                fields = line.split('\t')
                if len(fields) < 2:
                    continue
                if fields[1] not in index:
                    raise ValueError(f'{annotations}: class {fields[1]!r} is not in wnids.txt')
                data_list.append(dict(img_path=osp.join(self.data_root, 'val', 'images',
                                                        fields[0]),
                                      gt_label=index[fields[1]]))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}']

