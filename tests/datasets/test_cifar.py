"""CIFAR-10 / CIFAR-100 in both layouts, the validation split and subsets, and the
errors on malformed data, all on tiny generated data: nothing here reads the real
CIFAR. The CPU-scale CIFAR-10 configs and the tools on CIFAR:
tests/tools/test_cifar_protocol.py."""
import os.path as osp
import pickle

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.datasets.categories import CIFAR10_CATEGORIES, CIFAR100_CATEGORIES
from PIL import Image
from synthetic_data import TRAIN_PER_CLASS
from synthetic_data import cifar_images as _images
from synthetic_data import make_cifar as _make_cifar
from synthetic_data import write_cifar_tree as _write_tree

from gessl_mm.datasets import LocalCIFAR10, LocalCIFAR100, cifar_split, class_interleaved
from gessl_mm.datasets import cifar as cifar_module

pytestmark = pytest.mark.unit


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _mmpretrain_scope(monkeypatch):
    monkeypatch.chdir(ROOT)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def _items(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


# ------------------------------------------------------------------ both layouts
@pytest.mark.parametrize('split', ['train', 'val', 'trainval', 'test'])
def test_cifar10_layouts_read_the_same_items_in_the_same_order(cifar10_trees, split):
    roots, source = cifar10_trees
    batches = LocalCIFAR10(data_root=str(roots['batches']), split=split)
    folders = LocalCIFAR10(data_root=str(roots['folders']), split=split)
    assert batches.layout() == 'batches' and folders.layout() == 'folders'
    assert batches.metainfo['classes'] == folders.metainfo['classes'] == CIFAR10_CATEGORIES
    a, b = _items(batches), _items(folders)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        assert x['img'].shape == (32, 32, 3) and x['img'].dtype == np.uint8
        assert x['gt_label'] == y['gt_label']
        np.testing.assert_array_equal(x['img'], y['img'])
    # The pixels and labels are the generated ones (HWC, RGB, official label order).
    images, labels = source['test' if split == 'test' else 'train']
    for item in a:
        matches = np.flatnonzero((images == item['img']).all(axis=(1, 2, 3)))
        assert len(matches) == 1 and labels[matches[0]] == item['gt_label']


def test_cifar100_layouts_read_the_same_items(tmp_path):
    roots = {}
    for layout in ('batches', 'folders'):
        roots[layout] = tmp_path / layout
        _make_cifar(roots[layout], LocalCIFAR100, layout)
    for split in ('val', 'test'):
        a = _items(LocalCIFAR100(data_root=str(roots['batches']), split=split))
        b = _items(LocalCIFAR100(data_root=str(roots['folders']), split=split))
        assert [x['gt_label'] for x in a] == [y['gt_label'] for y in b]
        assert all((x['img'] == y['img']).all() for x, y in zip(a, b))
    val = LocalCIFAR100(data_root=str(roots['folders']), split='val')
    assert val.metainfo['classes'] == CIFAR100_CATEGORIES
    assert sorted(val.get_gt_labels()) == list(range(100))  # 10% of 10 = 1 a class


def test_image_folder_is_decoded_once_per_process(cifar10_trees, monkeypatch):
    """Train set and feature bank of the same folder: one decode of every image."""
    roots, _ = cifar10_trees
    root = roots['folders'].parent / 'decode_once'
    _make_cifar(root, LocalCIFAR10, 'folders')
    calls = []
    decode = cifar_module._decode
    monkeypatch.setattr(cifar_module, '_decode', lambda path: calls.append(path) or decode(path))
    LocalCIFAR10(data_root=str(root), split='train')
    assert len(calls) == 10 * TRAIN_PER_CLASS
    LocalCIFAR10(data_root=str(root), split='val', num_images=5)
    LocalCIFAR10(data_root=str(root), split='trainval')
    assert len(calls) == 10 * TRAIN_PER_CLASS


# ------------------------------------------------------------------ splits and subsets
def test_splits_are_disjoint_balanced_and_fixed():
    labels = np.random.RandomState(0).permutation(np.repeat(np.arange(10), 5000))
    train, val, trainval = (cifar_split(labels, s) for s in ('train', 'val', 'trainval'))
    assert (len(train), len(val), len(trainval)) == (45000, 5000, 50000)
    assert not set(train) & set(val)
    assert sorted(np.concatenate([train, val])) == sorted(trainval) == list(range(50000))
    assert np.bincount(labels[val]).tolist() == [500] * 10
    np.testing.assert_array_equal(val, cifar_split(labels, 'val'))  # deterministic
    assert not np.array_equal(np.sort(val), np.sort(cifar_split(labels, 'val', seed=1)))
    # Any prefix is class-balanced: what num_images keeps.
    for n in (10, 999, 10000):
        counts = np.bincount(labels[train[:n]], minlength=10)
        assert counts.max() - counts.min() <= 1 and counts.sum() == n


def test_class_interleaved_keeps_the_order_within_a_class():
    labels = np.array([2, 2, 0, 1, 0, 2, 1])
    order = class_interleaved(np.arange(7), labels)
    assert order.tolist() == [2, 3, 0, 4, 6, 1, 5]


def test_num_images_is_a_balanced_prefix(cifar10_trees):
    roots, _ = cifar10_trees
    full = LocalCIFAR10(data_root=str(roots['batches']), split='train')
    subset = LocalCIFAR10(data_root=str(roots['batches']), split='train', num_images=25)
    assert len(subset) == 25
    counts = np.bincount(subset.get_gt_labels(), minlength=10)
    assert counts.max() - counts.min() <= 1
    for i in range(25):
        np.testing.assert_array_equal(subset.get_data_info(i)['img'],
                                      full.get_data_info(i)['img'])
    with pytest.raises(ValueError, match=r'num_images=91 exceeds the 90 images'):
        LocalCIFAR10(data_root=str(roots['batches']), split='train', num_images=91)
    with pytest.raises(ValueError, match='num_images must be a positive integer'):
        LocalCIFAR10(data_root=str(roots['batches']), num_images=0)
    with pytest.raises(ValueError, match=r"split must be one of .*'valid'"):
        LocalCIFAR10(data_root=str(roots['batches']), split='valid')


# ------------------------------------------------------------------ errors
def _assert_names_both_layouts(message: str, path: str):
    assert path in message, message
    assert 'cifar-10-batches-py/' in message and 'data_batch_1' in message
    assert 'train/<class>/' in message and 'test/<class>/' in message
    assert 'docs/configs.md' in message


def test_missing_data_names_the_path_and_both_layouts(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        LocalCIFAR10(data_root=str(tmp_path / 'nowhere'))
    _assert_names_both_layouts(str(error.value), str(tmp_path / 'nowhere'))

    tree = tmp_path / 'only_train'
    _write_tree(tree / 'train', *_images(10, 2, 0), CIFAR10_CATEGORIES)
    assert len(LocalCIFAR10(data_root=str(tree), split='trainval')) == 20
    with pytest.raises(FileNotFoundError) as error:
        LocalCIFAR10(data_root=str(tree), split='test')
    _assert_names_both_layouts(str(error.value), str(tree / 'test'))

    batches = tmp_path / 'batches'
    _make_cifar(batches, LocalCIFAR10, 'batches')
    missing = batches / 'cifar-10-batches-py' / 'data_batch_3'
    missing.unlink()
    with pytest.raises(FileNotFoundError) as error:
        LocalCIFAR10(data_root=str(batches), split='val')
    _assert_names_both_layouts(str(error.value), str(missing))
    assert len(LocalCIFAR10(data_root=str(batches), split='test')) == 30


def _tree_with(tmp_path, name, change):
    root = tmp_path / name
    _write_tree(root / 'train', *_images(10, 2, 0), CIFAR10_CATEGORIES)
    return root, change(root / 'train')


@pytest.mark.parametrize('problem', ['missing class', 'extra folder', 'empty class',
                                     'wrong size', 'not an image'])
def test_malformed_image_folder_names_the_path(tmp_path, problem):
    def change(train):
        if problem == 'missing class':
            for f in (train / 'truck').iterdir():
                f.unlink()
            (train / 'truck').rmdir()
            return train
        if problem == 'extra folder':
            (train / 'plane').mkdir()
            return train
        if problem == 'empty class':
            for f in (train / 'cat').iterdir():
                f.unlink()
            return train / 'cat'
        bad = train / 'dog' / '0000.png'
        if problem == 'wrong size':
            Image.new('RGB', (28, 28)).save(bad)
        else:
            bad.write_bytes(b'not a png')
        return bad

    root, path = _tree_with(tmp_path, problem.replace(' ', '_'), change)
    with pytest.raises(ValueError) as error:
        LocalCIFAR10(data_root=str(root), split='trainval')
    _assert_names_both_layouts(str(error.value), str(path))
    if problem == 'missing class':
        assert "'truck'" in str(error.value)


@pytest.mark.parametrize('problem', ['not a pickle', 'no labels', 'wrong classes'])
def test_malformed_batches_name_the_file(tmp_path, problem):
    _make_cifar(tmp_path, LocalCIFAR10, 'batches')
    folder = tmp_path / 'cifar-10-batches-py'
    if problem == 'wrong classes':
        bad = folder / 'batches.meta'
        with open(bad, 'wb') as f:
            pickle.dump({'label_names': [str(i) for i in range(10)]}, f)
    else:
        bad = folder / 'data_batch_2'
        if problem == 'not a pickle':
            bad.write_bytes(b'garbage')
        else:
            with open(bad, 'wb') as f:
                pickle.dump({'data': np.zeros((2, 3072), np.uint8)}, f)
    with pytest.raises(ValueError) as error:
        LocalCIFAR10(data_root=str(tmp_path), split='trainval')
    _assert_names_both_layouts(str(error.value), str(bad))
