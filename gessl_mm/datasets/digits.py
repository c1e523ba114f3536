"""scikit-learn's handwritten digits as an mmpretrain dataset: real data, no download."""
from typing import List

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

SPLITS = ('train', 'val', 'trainval', 'test')


def digits_split(split: str):
    """Images (N, 32, 32, 3) uint8 and labels (N,) of a fixed split of the 1,797 digits.

    ``test`` is 360 images (20%), stratified, fixed seed; ``trainval`` the other 1,437;
    ``val`` 360 of those and ``train`` the remaining 1,077. Select settings on ``val``
    (trained on ``train``), report on ``test`` (trained on ``trainval``).
    """
    if split not in SPLITS:
        raise ValueError(f'SklearnDigits split must be one of {SPLITS}, got {split!r}')
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    trainval, test = train_test_split(index, test_size=360, random_state=0,
                                      stratify=digits.target)
    train, val = train_test_split(trainval, test_size=360, random_state=0,
                                  stratify=digits.target[trainval])
    chosen = dict(train=train, val=val, trainval=trainval, test=test)[split]
    images = torch.from_numpy(digits.images[chosen]).float().unsqueeze(1) / 16.0
    images = F.interpolate(images, size=32, mode='bilinear', align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    images = images.squeeze(1).unsqueeze(-1).expand(-1, -1, -1, 3).numpy()
    return np.ascontiguousarray(images), digits.target[chosen].astype(np.int64)


@DATASETS.register_module()
class SklearnDigits(BaseDataset):
    """The 1,797 8x8 handwritten digits shipped with scikit-learn, upsampled to 32x32 RGB.

    Each item carries ``img`` (32, 32, 3) uint8 and ``gt_label``, so pipelines start after
    image loading (no ``LoadImageFromFile``).

    Args:
        split: ``'train'``, ``'val'``, ``'trainval'`` or ``'test'`` (see :func:`digits_split`).
        **kwargs: other arguments of mmpretrain's ``BaseDataset`` (pipeline, test_mode, ...).
    """
    METAINFO = dict(classes=tuple(str(i) for i in range(10)))
    SPLITS = SPLITS

    def __init__(self, split: str = 'trainval', **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'dataset split must be one of {SPLITS}, got {split!r}')
        self.split = split
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        images, labels = digits_split(self.split)
        return [dict(img=img, gt_label=int(label)) for img, label in zip(images, labels)]
