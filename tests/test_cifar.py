"""CIFAR-10 / CIFAR-100 in both layouts, the validation split and subsets, the CPU-scale
CIFAR-10 configs and study specs, and the tools on CIFAR (study.py's splits, the demo's
--dataset), all on tiny generated data: nothing here reads the real CIFAR.
"""
import copy
import json
import os.path as osp
import pickle
import subprocess
import sys
from glob import glob

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.datasets.categories import CIFAR10_CATEGORIES, CIFAR100_CATEGORIES
from mmpretrain.registry import DATASETS
from PIL import Image

from gessl_mm.datasets import LocalCIFAR10, LocalCIFAR100, cifar_split, class_interleaved
from gessl_mm.datasets import cifar as cifar_module

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
CPU_CONFIGS = sorted(osp.relpath(p, ROOT) for p in glob(
    osp.join(ROOT, 'configs', '*', '*_resnet18-narrow_1xb32-10e_cifar10-10k.py')))
CPU_GESSL = [c for c in CPU_CONFIGS if '-gessl_' in c]
STUDY = osp.join(ROOT, 'configs', 'benchmarks', 'cifar10_study')
# Every image: a class-specific colour plus noise, so that items can be told apart.
TRAIN_PER_CLASS, TEST_PER_CLASS = 10, 3


@pytest.fixture(autouse=True)
def _mmpretrain_scope(monkeypatch):
    monkeypatch.chdir(ROOT)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def _images(num_classes: int, per_class: int, seed: int):
    """(N, 32, 32, 3) uint8 images and labels, classes interleaved at random (as in the
    official batches)."""
    rng = np.random.RandomState(seed)
    labels = rng.permutation(np.repeat(np.arange(num_classes), per_class))
    images = rng.randint(0, 256, size=(len(labels), 32, 32, 3)).astype(np.uint8)
    return images, labels


def _write_batches(folder, files, images, labels, label_key):
    """Python batches in the official format: dicts of (n, 3072) CHW rows and labels."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in zip(files, np.array_split(np.arange(len(labels)), len(files))):
        rows = images[part].transpose(0, 3, 1, 2).reshape(len(part), -1)
        with open(folder / name, 'wb') as f:
            pickle.dump({'data': rows, label_key: labels[part].tolist()}, f)


def _write_tree(split_dir, images, labels, classes):
    """``split_dir/<class>/NNNN.png``, numbered in the order of the batches (lossless)."""
    for c, name in enumerate(classes):
        (split_dir / name).mkdir(parents=True)
        for rank, i in enumerate(np.flatnonzero(labels == c)):
            Image.fromarray(images[i]).save(split_dir / name / f'{rank:04d}.png')


def _make_cifar(root, cls, layout: str):
    classes = cls.METAINFO['classes']
    train = _images(len(classes), TRAIN_PER_CLASS, seed=0)
    test = _images(len(classes), TEST_PER_CLASS, seed=1)
    if layout == 'batches':
        folder = root / cls.base_folder
        _write_batches(folder, cls.train_files, *train, cls.label_key)
        _write_batches(folder, cls.test_files, *test, cls.label_key)
        with open(folder / cls.meta_file, 'wb') as f:
            pickle.dump({cls.meta_key: list(classes)}, f)
    else:
        _write_tree(root / 'train', *train, classes)
        _write_tree(root / 'test', *test, classes)
    return dict(train=train, test=test)


@pytest.fixture(scope='module')
def cifar10_trees(tmp_path_factory):
    """The same tiny CIFAR-10 in both layouts: ``{layout: root}``, and the source arrays."""
    roots = {}
    for layout in ('batches', 'folders'):
        roots[layout] = tmp_path_factory.mktemp(f'cifar10_{layout}')
        source = _make_cifar(roots[layout], LocalCIFAR10, layout)
    return roots, source


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


# ------------------------------------------------------------------ configs
def test_cpu_protocol_configs_exist_for_simclr_and_byol():
    assert {'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py',
            'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'} <= set(CPU_GESSL)
    assert all(c.replace('-gessl_', '_') in CPU_CONFIGS for c in CPU_GESSL)


@pytest.mark.parametrize('path', CPU_CONFIGS)
def test_cpu_protocol_config_reads_cifar10_as_documented(path, cifar10_trees):
    """10,000 `trainval` images to pretrain and as the bank, `test` as queries, every epoch
    5-NN and a probe; the quarter-width ResNet-18; the datasets build on a generated tree."""
    cfg = Config.fromfile(osp.join(ROOT, path))
    dataset = cfg.train_dataloader.dataset
    hook = cfg.custom_hooks[0]
    assert (dataset.type, dataset.split, dataset.num_images) == ('LocalCIFAR10', 'trainval', 10000)
    assert (hook.type, hook.interval, hook.linear_probe, hook.k) == ('FeatureEvalHook', 1, True, 5)
    assert (hook.bank.split, hook.bank.num_images, hook.query.split) == ('trainval', 10000, 'test')
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_cfg.max_epochs == 10
    model = cfg.model.base if cfg.model.type == 'GeSSL' else cfg.model
    assert (model.backbone.type, model.backbone.depth, model.backbone.base_channels) == \
        ('ResNet_CIFAR', 18, 16)
    roots, _ = cifar10_trees
    for where in (dataset, hook.bank, hook.query):
        where = copy.deepcopy(where)
        where.update(data_root=str(roots['folders']), num_images=None)
        assert len(DATASETS.build(where)) > 0


@pytest.mark.parametrize('path', CPU_GESSL)
def test_cpu_gessl_config_starts_from_the_digits_choice(path):
    """Its twin + the 4 lines: GeSSL values of _base_/gessl_digits.py, 2 views, heads-only."""
    cfg = Config.fromfile(osp.join(ROOT, path))
    digits = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'gessl_digits.py'))
    ow = cfg.optim_wrapper
    for key, value in digits.gessl_optim_wrapper.items():
        if path.startswith('configs/vicreg/') and key == 'inner_lr':
            assert ow.inner_lr == 0.01  # documented: VICReg's loss is ~25x larger
            continue
        assert ow[key] == value, key
    assert ow.inner_params in (['neck'], ['neck', 'head'])
    assert cfg.model.ssl_loss_weight == 1.0 and cfg.model.task_head.type == 'PrototypeTaskHead'
    assert cfg.train_dataloader.dataset.pipeline[0].num_views == 2
    assert cfg.data_preprocessor.task_size == 16


# ------------------------------------------------------------------ study specs
def _load_spec(name):
    sys.path.insert(0, STUDY)
    try:
        import runpy
        return runpy.run_path(osp.join(STUDY, name))['runs']
    finally:
        sys.path.pop(0)


@pytest.mark.parametrize('spec', ['simclr.py', 'byol.py', 'final.py'])
def test_cifar10_study_specs_name_existing_configs_and_keys(spec):
    """Every run's config exists and takes its overrides; screening specs have a plain twin,
    the digits' choice and the paper's defaults, and a sensible number of runs."""
    runs = _load_spec(spec)
    names = [r['name'] for r in runs]
    assert len(set(names)) == len(names)
    configs = {}
    for run in runs:
        if run['config'] not in configs:
            configs[run['config']] = Config.fromfile(osp.join(ROOT, run['config']))
        cfg = copy.deepcopy(configs[run['config']])
        cfg.merge_from_dict(run['options'])
        assert 'cifar10-10k' in run['config']
        if '-gessl_' in run['config']:
            assert cfg.model.type == 'GeSSL'
            views = cfg.train_dataloader.dataset.pipeline[0].num_views
            assert views >= cfg.data_preprocessor.num_support_views
    if spec != 'final.py':
        assert {'plain', 'digits', 'paper'} <= set(names) and 12 <= len(runs) <= 18
    else:
        assert {'simclr_plain', 'simclr_gessl', 'byol_plain', 'byol_gessl'} <= set(names)


# ------------------------------------------------------------------ tools on CIFAR
def _run(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def _tiny(root) -> dict:
    """Overrides of a CPU CIFAR config for the generated tree: 64 images, 2 iterations."""
    return {'train_dataloader.dataset.data_root': str(root),
            'train_dataloader.dataset.num_images': 64,
            'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
            'custom_hooks.0.bank.data_root': str(root), 'custom_hooks.0.bank.num_images': 64,
            'custom_hooks.0.query.data_root': str(root)}


def test_study_val_split_on_cifar10(cifar10_trees, tmp_path):
    """study.py --split val on a CPU CIFAR config: pretraining and bank on `train`, queries
    on `val`; one real epoch of the GeSSL config."""
    roots, _ = cifar10_trees
    config = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
    spec = tmp_path / 'spec.py'
    spec.write_text(f'runs = [dict(name="gessl", config={config!r}, '
                    f'options={_tiny(roots["folders"])!r})]\n')
    work_dir = tmp_path / 'study'
    _run(osp.join(TOOLS, 'analysis', 'study.py'), str(spec), '--split', 'val', '--seeds', '0',
         '--epochs', '1', '--work-dir', str(work_dir), '--threads', '1')
    cfg = Config.fromfile(str(work_dir / 'gessl' / 'seed0' / 'config.py'))
    assert cfg.train_dataloader.dataset.split == 'train'
    assert (cfg.custom_hooks[0].bank.split, cfg.custom_hooks[0].query.split) == ('train', 'val')
    with open(work_dir / 'gessl' / 'seed0' / 'feature_eval.json') as f:
        records = json.load(f)
    assert [r['epoch'] for r in records] == [0, 1]
    assert f"{records[-1]['knn_acc']:.4f} ± 0.0000" in (work_dir / 'study.md').read_text()


def test_study_splits_of_a_spec_and_unknown_names(tmp_path):
    """A spec's own `splits`; a split name the dataset lacks, or a --split the spec lacks,
    stops the study before anything trains."""
    study = _load_tool('analysis/study.py')
    config = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_cifar10-10k.py'
    cfg = Config.fromfile(osp.join(ROOT, config))
    options = study.split_options(cfg, dict(pretrain='trainval', bank='val', query='test'),
                                  config)
    assert options == {'train_dataloader.dataset.split': 'trainval',
                       'custom_hooks.0.bank.split': 'val', 'custom_hooks.0.query.split': 'test'}
    with pytest.raises(ValueError, match=r"custom_hooks.0.query \(LocalCIFAR10\) has no split "
                                         r"'holdout'"):
        study.split_options(cfg, dict(pretrain='train', bank='train', query='holdout'), config)

    spec = tmp_path / 'spec.py'
    spec.write_text(f'runs = [dict(name="plain", config={config!r}, options={{}})]\n'
                    'splits = {"quick": dict(pretrain="val", bank="val", query="test")}\n')
    runs, splits = study.load_spec(str(spec))
    assert list(splits) == ['quick'] and runs[0]['name'] == 'plain'
    work_dir = tmp_path / 'study'
    _run(osp.join(TOOLS, 'analysis', 'study.py'), str(spec), '--split', 'quick', '--seeds', '0',
         '--epochs', '2', '--work-dir', str(work_dir), '--dry-run')
    dumped = Config.fromfile(str(work_dir / 'plain' / 'seed0' / 'config.py'))
    assert dumped.train_dataloader.dataset.split == 'val' and dumped.train_cfg.max_epochs == 2
    proc = subprocess.run([sys.executable, osp.join(TOOLS, 'analysis', 'study.py'), str(spec),
                           '--split', 'val', '--dry-run', '--work-dir', str(work_dir)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and '--split val: not a split of' in proc.stderr
    spec.write_text(f'runs = [dict(name="plain", config={config!r}, options={{}})]\n'
                    'splits = {"val": dict(pretrain="train", query="val")}\n')
    with pytest.raises(ValueError, match='must name the split of each of'):
        study.load_spec(str(spec))


def _load_tool(relpath: str):
    import importlib.util

    name = 'gessl_tool_cifar_' + relpath.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, osp.join(TOOLS, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_on_cifar10(cifar10_trees, tmp_path):
    """tools/demo.py --dataset cifar10 --data-root DIR: SimCLR and SimCLR + GeSSL on the CPU
    CIFAR-10 configs, reading the given folder (1 epoch of 2 iterations)."""
    roots, _ = cifar10_trees
    work_dir = tmp_path / 'demo'
    proc = _run(osp.join(TOOLS, 'demo.py'), '--dataset', 'cifar10', '--data-root',
                str(roots['batches']), '--methods', 'simclr', '--epochs', '1', '--work-dir',
                str(work_dir), '--cfg-options', 'train_dataloader.dataset.num_images=64',
                'custom_hooks.0.bank.num_images=64', 'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False')
    with open(work_dir / 'results.json') as f:
        results = json.load(f)
    assert list(results) == ['SimCLR', 'SimCLR + GeSSL']
    for name, records in results.items():
        assert [r['epoch'] for r in records] == [0, 1], name
    # The Runner dumps the config it ran into the work dir: it read the given folder.
    dumped = glob(str(work_dir / 'simclr_resnet18-narrow_1xb32-10e_cifar10-10k' / '*.py'))
    cfg = Config.fromfile(dumped[0])
    assert cfg.train_dataloader.dataset.data_root == str(roots['batches'])
    assert cfg.custom_hooks[0].query.data_root == str(roots['batches'])
    assert (work_dir / 'accuracy_vs_time.png').stat().st_size > 10_000
    assert 'SimCLR + GeSSL' in proc.stdout[proc.stdout.index('method'):]


@pytest.mark.parametrize('path', CPU_GESSL)
def test_cpu_gessl_heads_only_adapts_the_heads_not_the_backbone(path):
    """The per-method `inner_params` select trainable head parameters and no backbone one."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS

    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA
    cfg = Config.fromfile(osp.join(ROOT, path))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    model = MODELS.build(model_cfg)
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    names = [n for n, p in model.base.named_parameters() if p.requires_grad]
    adapted = wrapper.adapted_names(names)
    assert adapted and all(n.split('.')[0] in ('neck', 'head') for n in adapted)
    assert not any(n.startswith('backbone') for n in adapted)
