"""The CPU-scale CIFAR-10 configs and study specs, and the tools on CIFAR (study.py's
splits, the demo's --dataset), on tiny generated data: nothing here reads the real
CIFAR."""
import copy
import json
import os.path as osp
import subprocess
import sys
from glob import glob

import pytest
from helpers import load_tool
from mmengine.config import Config
from mmpretrain.registry import DATASETS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures('in_repo_root')]


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')
CPU_CONFIGS = sorted(osp.relpath(p, ROOT) for p in glob(
    osp.join(ROOT, 'configs', '*', '*_resnet18-narrow_1xb32-10e_cifar10-10k.py')))
CPU_GESSL = [c for c in CPU_CONFIGS if '-gessl_' in c]
STUDY = osp.join(ROOT, 'tools', 'analysis', 'studies', 'cifar10')
LR = 'optim_wrapper.optimizer.lr'


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
        if path.startswith(('configs/mocov2/', 'configs/barlowtwins/')) and key == 'optimizer':
            # documented: `val` chose beta 0.01 for MoCo v2 and Barlow Twins
            # (studies/cifar10/mocov2.py, barlowtwins.py)
            assert ow.optimizer == dict(value, lr=0.01)
            continue
        assert ow[key] == value, key
    assert ow.inner_params in (['neck'], ['neck', 'head'])
    assert cfg.model.ssl_loss_weight == 1.0 and cfg.model.task_head.type == 'PrototypeTaskHead'
    assert cfg.train_dataloader.dataset.pipeline[0].num_views == 2
    assert cfg.data_preprocessor.task_size == 16


# ------------------------------------------------------------------ study specs
def _load_spec(name):
    """The spec's runs as study.py reads them (its settings module imported relatively)."""
    return load_tool('analysis/study.py').load_spec(osp.join(STUDY, name))[0]


@pytest.mark.parametrize('spec', ['simclr.py', 'byol.py', 'mocov2.py', 'barlowtwins.py',
                                  'simsiam.py', 'protocol.py', 'final.py'])
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
        if spec == 'simsiam.py':  # its lr override names the hook by position
            assert cfg.custom_hooks[2].type == 'SimSiamHook'
            assert cfg.custom_hooks[2].lr == cfg.optim_wrapper.optimizer.lr
        if '-gessl_' in run['config']:
            assert cfg.model.type == 'GeSSL'
            views = cfg.train_dataloader.dataset.pipeline[0].num_views
            assert views >= cfg.data_preprocessor.num_support_views
    if spec in ('simclr.py', 'byol.py'):
        assert {'plain', 'digits', 'paper'} <= set(names) and 12 <= len(runs) <= 18
    elif spec in ('mocov2.py', 'barlowtwins.py', 'simsiam.py'):
        assert {'plain', 'digits', 'digits_beta0.01'} <= set(names)
    elif spec == 'protocol.py':  # plain twins only, every run states its lr
        assert all('-gessl_' not in r['config'] and LR in r['options'] for r in runs)
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
    assert f"| {records[-1]['knn_acc']:.4f} |" in (work_dir / 'study.md').read_text()


def test_study_splits_of_a_spec_and_unknown_names(tmp_path):
    """A spec's own `splits`; a split name the dataset lacks, or a --split the spec lacks,
    stops the study before anything trains."""
    study = load_tool('analysis/study.py')
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
