"""The command-line tools end to end: train.py (and --resume), test.py,
extract_backbone.py, analysis/study.py and demo.py. The launch scripts:
test_launch_scripts.py (their commands) and test_dist_launchers.py (their runs).

One tiny GeSSL training run (2 iterations, narrow network, small evaluation sets) is shared
by the tests that need a checkpoint.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from glob import glob

import pytest
import torch
from helpers import load_tool
from mmengine.config import Config
from mmengine.runner import CheckpointLoader, load_checkpoint
from mmpretrain.registry import MODELS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures('mmpretrain_scope')]


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')
GESSL_CFG = osp.join(ROOT, 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py')
DIGITS_BACKBONE = dict(type='ResNet_CIFAR', depth=18, base_channels=16, stem_channels=16,
                       norm_cfg=dict(type='BN'), zero_init_residual=False)

# A quarter of the digits network's width keeps the run short; same structure.
NARROW = ['model.base.backbone.base_channels=4', 'model.base.backbone.stem_channels=4',
          'model.base.neck.in_channels=32', 'model.base.neck.hid_channels=32',
          'model.base.neck.out_channels=16']
NARROW_BACKBONE = dict(DIGITS_BACKBONE, base_channels=4, stem_channels=4)
# 8 images in batches of 4 (2 tasks of 2): 2 iterations an epoch. FeatureEvalHook stays on,
# on a 60-image bank and a 30-image query set.
TRAIN_OPTIONS = NARROW + [
    'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4',
    'data_preprocessor.task_size=2', 'optim_wrapper.target_steps=2',
    'custom_hooks.0.bank.indices=60', 'custom_hooks.0.query.indices=30',
    'default_hooks.logger.interval=1'
]
EVAL_OPTIONS = NARROW + ['feature_eval.bank.indices=60', 'feature_eval.query.indices=30']



def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kwargs)
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def _state(path: str) -> dict:
    return CheckpointLoader.load_checkpoint(path, map_location='cpu', logger='silent')


@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> str:
    """Work dir of ``tools/train.py`` on the GeSSL digits config: 1 epoch of 2 iterations."""
    work_dir = str(tmp_path_factory.mktemp('train') / 'gessl')
    _run(osp.join(TOOLS, 'train.py'), GESSL_CFG, '--work-dir', work_dir, '--cfg-options',
         'train_cfg.max_epochs=1', *TRAIN_OPTIONS)
    return work_dir


def test_train_writes_checkpoint_and_feature_eval(trained):
    ckpt = _state(osp.join(trained, 'epoch_1.pth'))
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (1, 2)
    assert any(k.startswith('base.backbone.') for k in ckpt['state_dict'])
    with open(osp.join(trained, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_1.pth')
    # FeatureEvalHook: the initialisation and the end of the epoch.
    with open(osp.join(trained, 'feature_eval.json')) as f:
        records = json.load(f)
    assert [r['iter'] for r in records] == [0, 2]
    assert all(0 <= r[k] <= 1 for r in records for k in ('knn_acc', 'linear_acc'))


def test_resume_continues_from_latest_checkpoint(trained, tmp_path, monkeypatch):
    work_dir = str(tmp_path / 'resumed')
    shutil.copytree(trained, work_dir)
    first = osp.join(work_dir, 'epoch_1.pth')
    first_mtime = os.stat(first).st_mtime_ns
    train = load_tool('train.py')
    monkeypatch.setattr(sys, 'argv', [
        'train.py', GESSL_CFG, '--work-dir', work_dir, '--resume', '--cfg-options',
        'train_cfg.max_epochs=2', *TRAIN_OPTIONS])
    train.main()

    ckpt = _state(osp.join(work_dir, 'epoch_2.pth'))
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (2, 4)
    assert os.stat(first).st_mtime_ns == first_mtime  # epoch 1 was not trained again
    logs = sorted(glob(osp.join(work_dir, '*', '*.log')), key=os.path.getmtime)
    with open(logs[-1]) as f:
        assert 'resumed epoch: 1, iter: 2' in f.read()


def test_test_evaluates_feature_eval_of_checkpoint(trained, tmp_path):
    out = str(tmp_path / 'results.json')
    proc = _run(osp.join(TOOLS, 'test.py'), GESSL_CFG, osp.join(trained, 'epoch_1.pth'),
                '--work-dir', str(tmp_path / 'test'), '--out', out, '--cfg-options',
                *EVAL_OPTIONS)
    with open(out) as f:
        results = json.load(f)
    assert 0 <= results['knn_acc'] <= 1 and 0 <= results['linear_acc'] <= 1
    assert (results['num_bank'], results['num_query'], results['k']) == (60, 30, 5)
    assert '5-NN' in proc.stdout and 'linear probe' in proc.stdout
    # The same sets as FeatureEvalHook after the epoch, so the same accuracies.
    with open(osp.join(trained, 'feature_eval.json')) as f:
        last = json.load(f)[-1]
    assert results['knn_acc'] == pytest.approx(last['knn_acc'], abs=1e-6)
    assert results['linear_acc'] == pytest.approx(last['linear_acc'], abs=1e-6)


def test_extract_backbone_of_trained_checkpoint(trained, tmp_path, capsys):
    src, dst = osp.join(trained, 'epoch_1.pth'), str(tmp_path / 'backbone.pth')
    load_tool('model_converters/extract_backbone.py').main([src, dst])
    assert 'wrote 120 backbone tensors' in capsys.readouterr().out

    out = torch.load(dst, map_location='cpu', weights_only=True)
    expected = {k[len('base.backbone.'):]: v for k, v in _state(src)['state_dict'].items()
                if k.startswith('base.backbone.')}
    assert out['state_dict'].keys() == expected.keys()
    assert all(torch.equal(out['state_dict'][k], v) for k, v in expected.items())
    assert out['meta']['backbone_cfg'] == NARROW_BACKBONE
    assert (out['meta']['epoch'], out['meta']['source_prefix']) == (1, 'base.backbone.')
    # test.py reads the backbone-only file too (bare keys).
    results = load_tool('test.py').main([
        GESSL_CFG, dst, '--work-dir', str(tmp_path / 'test'), '--no-linear-probe',
        '--cfg-options', *EVAL_OPTIONS])
    with open(osp.join(trained, 'feature_eval.json')) as f:
        assert results['knn_acc'] == pytest.approx(json.load(f)[-1]['knn_acc'], abs=1e-6)


def _perturbed(module: torch.nn.Module) -> dict:
    """``module``'s state with every float tensor random (so that copies are told apart)."""
    g = torch.Generator().manual_seed(1)
    return {k: torch.rand(v.shape, generator=g) if v.is_floating_point() else v.clone()
            for k, v in module.state_dict().items()}


def _classifier(checkpoint: str, backbone: dict = DIGITS_BACKBONE):
    cfg = dict(type='ImageClassifier',
               backbone=dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=10, in_channels=128))
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_extract_backbone_gessl_digits_into_image_classifier(tmp_path):
    cfg = Config.fromfile(GESSL_CFG)
    gessl = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    state = _perturbed(gessl)
    src, dst = str(tmp_path / 'gessl.pth'), str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=10, cfg=cfg.pretty_text)), src)
    load_tool('model_converters/extract_backbone.py').main([src, dst])

    classifier = _classifier(dst)
    own = classifier.backbone.state_dict()
    converted = torch.load(dst, map_location='cpu', weights_only=True)
    assert converted['state_dict'].keys() == own.keys()  # no missing or unexpected keys
    assert converted['meta']['backbone_cfg'] == DIGITS_BACKBONE
    for k, v in own.items():
        assert torch.equal(v, state['base.backbone.' + k]), k
    load_checkpoint(classifier.backbone, dst, strict=True, logger='silent')


def test_extract_backbone_online_copy_into_mmdet_and_mmpretrain(tmp_path):
    from mmdet.models.backbones import ResNet as DetResNet
    from mmpretrain.models import MAEViT, ResNet, VisionTransformer

    convert = load_tool('model_converters/extract_backbone.py').extract_backbone
    vit_arch = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
    cases = [  # (pretraining backbone, downstream backbones)
        (ResNet(depth=18, base_channels=8, stem_channels=8),
         [lambda c: DetResNet(depth=18, base_channels=8, init_cfg=c),
          lambda c: ResNet(depth=18, base_channels=8, stem_channels=8, init_cfg=c)]),
        (MAEViT(arch=vit_arch, img_size=32, patch_size=8),
         [lambda c: VisionTransformer(arch=vit_arch, img_size=32, patch_size=8, init_cfg=c)]),
    ]
    for i, (pretrained, downstream) in enumerate(cases):
        online = _perturbed(pretrained)
        # A BYOL/MoCo-like checkpoint, saved from a DDP-wrapped model: the momentum copy
        # under target_net. and a neck must be left out.
        state = {f'module.backbone.{k}': v for k, v in online.items()}
        state.update({f'module.target_net.module.0.{k}': v + 1 for k, v in online.items()})
        state['module.neck.fc.weight'] = torch.ones(2, 2)
        src, dst = str(tmp_path / f'ssl{i}.pth'), str(tmp_path / f'backbone{i}.pth')
        torch.save(dict(state_dict=state), src)
        assert convert(src, dst)['meta']['source_prefix'] == 'backbone.'
        for build in downstream:
            backbone = build(dict(type='Pretrained', checkpoint=dst))
            backbone.init_weights()
            assert backbone.state_dict().keys() == online.keys()
            for k, v in backbone.state_dict().items():
                assert torch.equal(v, online[k]), (type(backbone).__name__, k)
            load_checkpoint(build(None), dst, strict=True, logger='silent')


def test_extract_backbone_bad_inputs_name_the_file(tmp_path):
    main = load_tool('model_converters/extract_backbone.py').main
    dst = str(tmp_path / 'out.pth')
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit, match='missing.pth'):
        main([missing, dst])

    garbage = tmp_path / 'garbage.pth'
    garbage.write_text('not a checkpoint')
    with pytest.raises(SystemExit, match='cannot read checkpoint .*garbage.pth'):
        main([str(garbage), dst])

    no_backbone = str(tmp_path / 'neck_only.pth')
    torch.save(dict(state_dict={'base.neck.fc.weight': torch.ones(1),
                                'head.w': torch.ones(1)}), no_backbone)
    with pytest.raises(SystemExit) as error:
        main([no_backbone, dst])
    message = str(error.value)
    assert 'neck_only.pth' in message and "'base.neck.'" in message and "'head.'" in message
    assert not osp.exists(dst)


def test_test_runs_test_loop_of_classification_config(tmp_path):
    """A config with test_dataloader + test_evaluator goes through Runner.test()."""
    config = tmp_path / 'cls.py'
    config.write_text(f"""
_base_ = 'mmpretrain::_base_/default_runtime.py'
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
model = dict(type='ImageClassifier',
             data_preprocessor=dict(mean=[77.9] * 3, std=[82.5] * 3, num_classes=10),
             backbone={NARROW_BACKBONE!r},
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10, in_channels=32))
test_dataloader = dict(batch_size=16, num_workers=0,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(type='SklearnDigits', split='test', indices=20,
                                    pipeline=[dict(type='PackInputs')]))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
""")
    cfg = Config.fromfile(str(config))
    ckpt = str(tmp_path / 'cls.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    out = str(tmp_path / 'metrics.json')
    metrics = load_tool('test.py').main([str(config), ckpt, '--work-dir',
                                          str(tmp_path / 'work'), '--out', out,
                                          '--no-pin-memory'])
    assert 0 <= metrics['accuracy/top1'] <= 100
    with open(out) as f:
        assert json.load(f) == pytest.approx(metrics)


def test_test_names_missing_keys(tmp_path):
    main = load_tool('test.py').main
    config = tmp_path / 'nothing.py'
    config.write_text("model = dict(type='SimCLR')\ntest_dataloader = dict(batch_size=1)\n")
    with pytest.raises(SystemExit) as error:
        main([str(config), 'ckpt.pth'])
    message = str(error.value)
    assert 'nothing.py' in message
    assert 'missing: test_evaluator' in message and 'missing: feature_eval' in message

    config.write_text("model = dict(type='SimCLR')\nfeature_eval = dict(bank=dict(a=1))\n")
    with pytest.raises(SystemExit, match='feature_eval lacks query'):
        main([str(config), 'ckpt.pth'])


def test_study_runs_settings_over_seeds_and_tabulates(tmp_path):
    """tools/analysis/study.py: a spec of one tiny GeSSL setting, 2 seeds, the val split;
    the table is the mean and spread of the seeds' last records; complete runs are skipped."""
    options = {o.split('=')[0]: eval(o.split('=')[1]) for o in TRAIN_OPTIONS}
    spec = tmp_path / 'spec.py'
    spec.write_text(f'runs = [dict(name="tiny", config={GESSL_CFG!r}, options={options!r})]\n')
    work_dir = tmp_path / 'study'
    args = [osp.join(TOOLS, 'analysis', 'study.py'), str(spec), '--seeds', '0', '1',
            '--epochs', '1', '--work-dir', str(work_dir), '--threads', '1']
    _run(*args)
    cfg = Config.fromfile(str(work_dir / 'tiny' / 'seed1' / 'config.py'))
    assert cfg.train_dataloader.dataset.split == 'train'
    assert (cfg.custom_hooks[0].bank.split, cfg.custom_hooks[0].query.split) == ('train', 'val')
    assert cfg.randomness.seed == 1 and cfg.train_cfg.max_epochs == 1
    assert cfg.param_scheduler[0].T_max == 1

    finals = []
    for seed in (0, 1):
        with open(work_dir / 'tiny' / f'seed{seed}' / 'feature_eval.json') as f:
            records = json.load(f)
        assert [r['epoch'] for r in records] == [0, 1]
        finals.append(records[-1]['knn_acc'])
    mean = sum(finals) / 2
    spread = abs(finals[0] - finals[1]) / 2 ** 0.5  # the sample sd of two values
    table = (work_dir / 'study.md').read_text()
    assert f'{mean:.4f} ± {spread:.4f}' in table
    rerun = _run(*args)
    assert '0 runs to train' in rerun.stdout


INTERRUPT_HOOK = """
import os
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class InterruptOnceHook(Hook):
    priority = 'LOWEST'  # after the epoch's checkpoint

    def __init__(self, flag):
        self.flag = flag

    def after_train_epoch(self, runner):
        if runner.epoch == 0 and not os.path.exists(self.flag):  # the first epoch's end
            open(self.flag, 'w').close()
            raise SystemExit('interrupted')
"""


def test_study_resumes_a_run_that_stopped_part_way(tmp_path):
    """A run that stopped after epoch 1 of 2 resumes there on the next call: one new epoch
    trained, its curve and training time continued, and the finished run is then skipped;
    a run of another setting in its folder is refused, part-way or finished, and left out
    of the table when another run is selected."""
    (tmp_path / 'interrupt_hook.py').write_text(INTERRUPT_HOOK)
    cfg = Config.fromfile(GESSL_CFG)
    hooks = [dict(cfg.custom_hooks[0], bank=dict(cfg.custom_hooks[0].bank, indices=60),
                  query=dict(cfg.custom_hooks[0].query, indices=30)),
             dict(type='InterruptOnceHook', flag=str(tmp_path / 'interrupted'))]
    options = {o.split('=')[0]: eval(o.split('=')[1]) for o in TRAIN_OPTIONS
               if not o.startswith('custom_hooks')}
    options.update({'custom_hooks': hooks,
                    'custom_imports.imports': ['gessl_mm', 'interrupt_hook']})
    spec = tmp_path / 'spec.py'
    spec.write_text(f'runs = [dict(name="tiny", config={GESSL_CFG!r}, options={options!r})]\n')
    work_dir = tmp_path / 'study'
    run_dir = work_dir / 'tiny' / 'seed0'
    args = [osp.join(TOOLS, 'analysis', 'study.py'), str(spec), '--seeds', '0',
            '--epochs', '2', '--work-dir', str(work_dir), '--threads', '1']
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), os.environ.get('PYTHONPATH', '')]))

    first = _run(*args, env=env)
    assert 'FAILED' in first.stdout
    with open(run_dir / 'feature_eval.json') as f:
        interrupted = json.load(f)
    assert [r['epoch'] for r in interrupted] == [0, 1]
    assert (run_dir / 'epoch_1.pth').exists()

    # Another setting in the same folder would resume the wrong run: refused, nothing lost.
    three_epochs = [('3' if a == '2' and args[i - 1] == '--epochs' else a)
                    for i, a in enumerate(args)]
    other = subprocess.run([sys.executable, *three_epochs], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert other.returncode != 0
    assert f'{run_dir}: a run that stopped part-way with another setting' in other.stderr
    assert 'max_epochs=3' in other.stderr  # names what differs
    assert (run_dir / 'epoch_1.pth').exists()

    second = _run(*args, env=env)
    assert '1 runs to train' in second.stdout and 'tiny seed 0: ok' in second.stdout
    with open(run_dir / 'feature_eval.json') as f:
        records = json.load(f)
    assert [r['epoch'] for r in records] == [0, 1, 2]
    assert records[:2] == interrupted  # epoch 1 not trained again
    assert records[2]['train_time'] > records[1]['train_time']
    assert 'resumed' in (run_dir / 'train.log').read_text().lower()
    assert sorted(p.name for p in run_dir.glob('*.pth')) == ['epoch_2.pth']
    assert '0 runs to train' in _run(*args, env=env).stdout

    # A finished run is not reported under a setting it did not run with...
    other_lr = subprocess.run(
        [sys.executable, *args, '--cfg-options', 'optim_wrapper.optimizer.lr=0.123'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert other_lr.returncode != 0
    assert (f'{run_dir}: a finished run with another setting would be reported as tiny'
            in other_lr.stderr)
    assert 'lr=0.123' in other_lr.stderr
    with open(run_dir / 'feature_eval.json') as f:
        assert json.load(f) == records
    # ...but where its folder lies is no part of its setting.
    moved = tmp_path / 'moved'
    shutil.copytree(work_dir, moved)
    moved_args = [str(moved) if a == str(work_dir) else a for a in args]
    assert '0 runs to train' in _run(*moved_args, env=env).stdout

    # The table also lists runs this call did not select: one of another setting is left
    # out of it, with a word, rather than reported under the spec's name.
    spec.write_text(spec.read_text() + 'runs.append(dict(runs[0], name="tiny2"))\n')
    only_tiny2 = [*args, '--only', 'tiny2', '--dry-run']
    assert f'{run_dir}: left out' not in _run(*only_tiny2, env=env).stdout
    assert '| tiny | 1 | 2 |' in (work_dir / 'study.md').read_text()
    other_table = _run(*only_tiny2, '--cfg-options', 'optim_wrapper.optimizer.lr=0.123',
                       env=env).stdout
    assert f'{run_dir}: left out of the table' in other_table and 'lr=0.123' in other_table
    assert '| tiny |' not in (work_dir / 'study.md').read_text()
    with open(run_dir / 'feature_eval.json') as f:
        assert json.load(f) == records


def test_study_compares_each_gessl_run_with_its_plain_twin_seed_by_seed():
    """The pair table: accuracy gains at equal epochs and the time to the twin's final
    accuracy as a fraction of its training time, over the seeds where both finished."""
    study = load_tool('analysis/study.py')

    def curve(knn, lin, times):
        return [dict(epoch=e, knn_acc=k, linear_acc=a, train_time=t)
                for e, (k, a, t) in enumerate(zip(knn, lin, times))]

    results = {
        'simclr_plain': {0: curve([.2, .3, .4], [.3, .4, .5], [0, 100, 200]),
                         1: curve([.2, .3, .5], [.3, .4, .6], [0, 100, 200])},
        'simclr_gessl': {0: curve([.2, .45, .5], [.3, .4, .55], [0, 110, 220]),
                         1: curve([.2, .4, .45], [.3, .5, .6], [0, 110, 220]),
                         2: curve([.2, .4, .9], [.3, .5, .9], [0, 110, 220])},  # no twin
        # a control: the twin with GeSSL's clipping
        'simclr_plain-clip10': {0: curve([.2, .4, .5], [.3, .45, .55], [0, 100, 200])},
        'simclr_plainish': {0: curve([.2, .3, .4], [.3, .4, .5], [0, 100, 200])},
        'byol_plain': {0: curve([.2, .3], [.3, .4], [0, 100])},  # unfinished
        'byol_gessl': {},
    }
    runs = [dict(name=n) for n in results]
    assert study.pairs_of(runs) == [('byol_plain', 'byol_gessl'),
                                    ('simclr_plain', 'simclr_gessl'),
                                    ('simclr_plain-clip10', 'simclr_gessl')]
    table = study.compare_pairs(runs, results, epochs=2)
    (row, ) = [line for line in table.splitlines() if line.startswith('| simclr |')]
    cells = [c.strip() for c in row.strip('|').split('|')]
    # seed 0: +10 / +5 points, plain's 0.4 / 0.5 reached at 110 s / 220 s of plain's 200 s;
    # seed 1: -5 / 0 points, 5-NN 0.5 never reached, linear 0.6 at 220 s.
    # The spreads are sample sds (n - 1); a time reached in one seed has none.
    assert cells[1:] == ['2', '+2.50 ± 10.61', '+2.50 ± 3.54', '0.55x (1/2)',
                         '1.10x ± 0.00 (2/2)', '1.10x ± 0.00']
    (row, ) = [line for line in table.splitlines()
               if line.startswith('| simclr (plain-clip10) |')]
    # seed 0 only: 0 / 0 points, the control's 0.5 / 0.55 reached at 220 s of its 200 s;
    # one seed has no spread to show
    assert [c.strip() for c in row.strip('|').split('|')][1:] == [
        '1', '+0.00', '+0.00', '1.10x (1/1)', '1.10x (1/1)', '1.10x']
    assert 'byol' not in table
    per_epoch = study.curves(runs, results, epochs=2)
    (row, ) = [line for line in per_epoch.splitlines() if line.startswith('| simclr_gessl |')]
    # seeds 0-2 averaged; byol's runs, unfinished or empty, have no row
    assert row == ('| simclr_gessl | 3 | 0.200 / 0.300 (0 s) | 0.417 / 0.467 (110 s) '
                   '| 0.617 / 0.683 (220 s) |')
    assert 'byol' not in per_epoch


def test_study_tabulates_labelled_runs_in_the_shape_of_the_papers_table():
    """Runs with a ``label`` get a row of the paper-shaped table: the paper's accuracies
    as given ("-" where it reports none) beside the mean ± sd of ours in %."""
    study = load_tool('analysis/study.py')

    def final(knn, lin):
        return [dict(epoch=0, knn_acc=0.1, linear_acc=0.1, train_time=0),
                dict(epoch=1, knn_acc=knn, linear_acc=lin, train_time=10)]

    runs = [dict(name='simclr_plain', label='SimCLR', paper=dict(linear='91.80', knn='88.42')),
            dict(name='simclr_gessl', label='SimCLR + GeSSL', paper=dict(knn='91.02')),
            dict(name='simclr_plain-lr0.1'),  # no label: not in the table
            dict(name='byol_plain', label='BYOL')]  # unfinished: no row
    results = {'simclr_plain': {0: final(.30, .40), 1: final(.34, .44)},
               'simclr_gessl': {0: final(.40, .50)},
               'simclr_plain-lr0.1': {0: final(.3, .4)},
               'byol_plain': {0: final(.3, .4)[:1]}}
    rows = [[c.strip() for c in line.strip('|').split('|')]
            for line in study.paper_table(runs, results, epochs=1).splitlines()]
    assert rows[0] == ['method', 'paper: linear', 'paper: 5-NN', 'ours: linear', 'ours: 5-NN',
                       'seeds']
    assert rows[2:] == [['SimCLR', '91.80', '88.42', '42.00 ± 2.83', '32.00 ± 2.83', '2'],
                        ['SimCLR + GeSSL', '-', '91.02', '50.00', '40.00', '1']]
    assert study.paper_table(runs[2:], results, epochs=1) == ''


SPECS = sorted(p for p in glob(osp.join(TOOLS, 'analysis', 'studies', '*', '*.py'))
               if not p.endswith('settings.py'))


@pytest.mark.parametrize('spec', SPECS, ids=lambda p: osp.relpath(p, TOOLS))
def test_study_specs_load_and_name_existing_configs(spec):
    """The specs of tools/analysis/studies/ load as study.py loads them (their settings
    module imported relatively, sys.path untouched) and name configs that exist."""
    path = list(sys.path)
    runs, splits = load_tool('analysis/study.py').load_spec(spec)
    assert sys.path == path and runs and {'val', 'test'} <= set(splits)
    for run in runs:
        assert osp.isfile(osp.join(ROOT, run['config'])), (run['name'], run['config'])


def test_demo_runs_both_methods_and_their_plain_twins(tmp_path):
    """tools/demo.py end to end on a shrunken digits set (1 epoch of 2 iterations): every
    run is trained and evaluated, the table pairs each GeSSL run with its twin, the plot and
    results are written."""
    work_dir = tmp_path / 'demo'
    proc = _run(osp.join(TOOLS, 'demo.py'), '--epochs', '1', '--work-dir', str(work_dir),
                '--cfg-options', 'train_dataloader.dataset.indices=64',
                'custom_hooks.0.bank.indices=60', 'custom_hooks.0.query.indices=30')
    with open(work_dir / 'results.json') as f:
        results = json.load(f)
    assert list(results) == ['SimCLR', 'SimCLR + GeSSL', 'BYOL', 'BYOL + GeSSL']
    for name, records in results.items():
        assert [r['epoch'] for r in records] == [0, 1], name
        assert records[1]['train_time'] > 0
    table = proc.stdout[proc.stdout.index('method'):]
    for name, records in results.items():
        assert f"{name}  " in table and f"{records[-1]['knn_acc']:.4f}" in table
    assert table.count('(initialisation)') == 2
    assert (work_dir / 'accuracy_vs_time.png').stat().st_size > 10_000
