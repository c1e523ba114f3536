"""The dataset classes read their documented layouts (STL-10, Tiny ImageNet, the
few-shot sets, ImageNet and its subsets) and name missing data."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmpretrain.registry import DATASETS
from PIL import Image

from gessl_mm.datasets import STL10, require_data, write_imagenet_subset

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures('in_repo_root')]


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# --------------------------------------------------------------- dataset classes
def test_require_data_message(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        require_data('Foo', 'data/foo', ['', 'bar/baz.txt'], '{root}/\n└── bar/', how='Get it.')
    message = str(error.value)
    assert message.startswith('Foo: data/foo does not exist')
    assert 'data/foo/\n└── bar/' in message and 'Get it.' in message
    (tmp_path / 'foo' / 'bar').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='baz.txt does not exist'):
        require_data('Foo', str(tmp_path / 'foo'), ['', 'bar/baz.txt'], '{root}/')
    (tmp_path / 'foo' / 'bar' / 'baz.txt').write_text('')
    require_data('Foo', str(tmp_path / 'foo'), ['', 'bar/baz.txt'], '{root}/')


def test_stl10_reads_the_binary_format(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / 'stl10_binary'
    folder.mkdir()
    images = {'train': rng.integers(0, 256, (3, 96, 96, 3), dtype=np.uint8),
              'unlabeled': rng.integers(0, 256, (2, 96, 96, 3), dtype=np.uint8)}
    for part, hwc in images.items():
        # STL-10 stores each image channel by channel, column-major: (C, W, H) in C order.
        hwc.transpose(0, 3, 2, 1).tofile(folder / f'{part}_X.bin')
    np.array([3, 1, 10], dtype=np.uint8).tofile(folder / 'train_y.bin')

    dataset = STL10(data_root=str(tmp_path), split='train+unlabeled')
    assert len(dataset) == 5
    items = [dataset.get_data_info(i) for i in range(5)]
    for item, expected in zip(items, [*images['train'], *images['unlabeled']]):
        np.testing.assert_array_equal(item['img'], expected)
    assert [item.get('gt_label') for item in items] == [2, 0, 9, None, None]
    assert len(STL10(data_root=str(tmp_path), split='train')) == 3
    # Workers get the dataset without the memory maps, and re-open them.
    clone = copy.deepcopy(dataset)
    assert clone._images == {}
    np.testing.assert_array_equal(clone.get_data_info(4)['img'], images['unlabeled'][1])
    with pytest.raises(FileNotFoundError, match='test_X.bin'):
        STL10(data_root=str(tmp_path), split='test')
    with pytest.raises(ValueError, match='split'):
        STL10(data_root=str(tmp_path), split='val')


def _image(path, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size, size, 3), dtype=np.uint8)).save(path, format='PNG')


def _labels(dataset):
    return [(osp.relpath(d['img_path'], dataset.data_root), d['gt_label'])
            for d in (dataset.get_data_info(i) for i in range(len(dataset)))]


def test_tiny_imagenet_reads_the_release_layout(tmp_path):
    (tmp_path / 'wnids.txt').write_text('n02\nn01\n')
    for wnid in ('n01', 'n02'):
        _image(tmp_path / 'train' / wnid / 'images' / f'{wnid}_0.JPEG')
    (tmp_path / 'val' / 'images').mkdir(parents=True)
    (tmp_path / 'val' / 'val_annotations.txt').write_text(
        'val_0.JPEG\tn02\t0\t0\t8\t8\nval_1.JPEG\tn01\t0\t0\t8\t8\n')
    train = DATASETS.build(dict(type='TinyImageNet', data_root=str(tmp_path)))
    assert _labels(train) == [('train/n01/images/n01_0.JPEG', 0),
                              ('train/n02/images/n02_0.JPEG', 1)]
    assert train.CLASSES == ('n01', 'n02')
    val = DATASETS.build(dict(type='TinyImageNet', data_root=str(tmp_path), split='val'))
    assert _labels(val) == [('val/images/val_0.JPEG', 1), ('val/images/val_1.JPEG', 0)]


def test_few_shot_datasets_read_their_layouts(tmp_path):
    # miniImageNet: class folders per split, or images/ + {split}.csv
    for split, wnid in (('train', 'n1'), ('test', 'n3'), ('test', 'n2')):
        _image(tmp_path / 'mini' / split / wnid / f'{wnid}_0.jpg')
    test = DATASETS.build(dict(type='MiniImageNet', data_root=str(tmp_path / 'mini'),
                               split='test'))
    assert _labels(test) == [('test/n2/n2_0.jpg', 0), ('test/n3/n3_0.jpg', 1)]
    _image(tmp_path / 'csv' / 'images' / 'a.jpg')
    _image(tmp_path / 'csv' / 'images' / 'b.jpg')
    (tmp_path / 'csv' / 'val.csv').write_text('filename,label\nb.jpg,n9\na.jpg,n8\n')
    val = DATASETS.build(dict(type='MiniImageNet', data_root=str(tmp_path / 'csv'),
                              split='val'))
    assert _labels(val) == [('images/a.jpg', 0), ('images/b.jpg', 1)]
    # CIFAR-FS: R2D2's data/ + splits/bertinetto/{split}.txt
    for name in ('apple', 'bear', 'cloud'):
        _image(tmp_path / 'fs' / 'data' / name / f'{name}_0.png')
    (tmp_path / 'fs' / 'splits' / 'bertinetto').mkdir(parents=True)
    (tmp_path / 'fs' / 'splits' / 'bertinetto' / 'test.txt').write_text('cloud\napple\n')
    fs = DATASETS.build(dict(type='CIFARFS', data_root=str(tmp_path / 'fs'), split='test'))
    assert _labels(fs) == [('data/apple/apple_0.png', 0), ('data/cloud/cloud_0.png', 1)]
    # Omniglot: a class is alphabet/character
    for alphabet, char in (('Latin', 'character02'), ('Latin', 'character01'),
                           ('Greek', 'character01')):
        _image(tmp_path / 'omni' / 'images_evaluation' / alphabet / char / '0.png')
    omni = DATASETS.build(dict(type='Omniglot', data_root=str(tmp_path / 'omni'),
                               split='test'))
    assert omni.CLASSES == ('Greek/character01', 'Latin/character01', 'Latin/character02')
    assert [label for _, label in _labels(omni)] == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match='images_background'):
        DATASETS.build(dict(type='Omniglot', data_root=str(tmp_path / 'omni')))


def test_imagenet_folders_and_subset_annotation(tmp_path):
    for wnid in ('n02', 'n01'):
        _image(tmp_path / 'train' / wnid / f'{wnid}_1.JPEG')
        _image(tmp_path / 'train' / wnid / f'{wnid}_2.JPEG')
    subset = tmp_path / '1percent.txt'
    subset.write_text('n02_2.JPEG\nn01_1.JPEG\n')
    ann = tmp_path / 'meta' / 'train_1percent.txt'
    assert write_imagenet_subset(str(subset), str(ann), str(tmp_path / 'train')) == 2
    assert ann.read_text() == 'n02/n02_2.JPEG 1\nn01/n01_1.JPEG 0\n'
    with pytest.raises(FileNotFoundError, match='train_10percent.txt(.|\n)*write_imagenet'):
        DATASETS.build(dict(type='LocalImageNet', data_root=str(tmp_path), split='train',
                            ann_file='meta/train_10percent.txt'))
    imagenet = DATASETS.build(dict(type='LocalImageNet', data_root=str(tmp_path),
                                   split='train', ann_file='meta/train_1percent.txt'))
    assert _labels(imagenet) == [('train/n02/n02_2.JPEG', 1), ('train/n01/n01_1.JPEG', 0)]
    in100 = DATASETS.build(dict(type='ImageNet100', data_root=str(tmp_path)))
    assert len(in100) == 4 and in100.CLASSES == ('n01', 'n02')
