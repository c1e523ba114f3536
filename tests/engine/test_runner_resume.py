"""Interrupt and resume a GeSSL run under mmengine's Runner: at an outer-update boundary and
in the middle of an update's accumulation, the resumed run ends where the uninterrupted run
ends."""
import copy

import pytest
import torch
from helpers import BASES, PREPROCESSOR
from mmengine.config import Config
from mmengine.runner import Runner

pytestmark = pytest.mark.integration

MAX_ITERS = 4  # 2 tasks per iteration, 4 tasks per outer update: updates end at iters 2, 4

VIEW = [dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0),
             backend='pillow')]


def _config(work_dir, max_iters, load_from=None):
    return Config(dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['gessl_mm'], allow_failed_imports=False),
        work_dir=str(work_dir),
        model=dict(type='GeSSL', base=copy.deepcopy(BASES['SimCLR']),
                   data_preprocessor=dict(type='TaskDataPreprocessor', task_size=4,
                                          **PREPROCESSOR)),
        train_dataloader=dict(
            batch_size=8, num_workers=1, persistent_workers=False, drop_last=True,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='SklearnDigits', split='train', indices=40,
                         pipeline=[dict(type='MultiView', num_views=2, transforms=[VIEW]),
                                   dict(type='PackInputs')])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(type='BiLevelOptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                                          weight_decay=1e-4),
                           inner_lr=0.05, target_steps=2, tasks_per_update=4),
        # explicit end: the "interrupted" run stops early but keeps the full schedule
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=MAX_ITERS, by_epoch=False,
                              begin=0, end=MAX_ITERS)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='RandomStateHook')],
        log_level='WARNING',
        randomness=dict(seed=0),
        resume=load_from is not None,
        load_from=load_from))


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return {n: p.detach().clone() for n, p in runner.model.named_parameters()}


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    return _train(_config(tmp_path_factory.mktemp('full'), MAX_ITERS))


@pytest.mark.parametrize('stop_at', [1, 2], ids=['mid-accumulation', 'update-boundary'])
def test_resume_equals_uninterrupted_run(tmp_path, uninterrupted, stop_at):
    _train(_config(tmp_path, stop_at))  # the "interrupted" run: its last checkpoint
    checkpoint = torch.load(tmp_path / f'iter_{stop_at}.pth', weights_only=True)
    assert checkpoint['optimizer']['bilevel']['tasks_accumulated'] == (2 * stop_at) % 4
    resumed = _train(_config(tmp_path, MAX_ITERS, load_from=str(tmp_path /
                                                               f'iter_{stop_at}.pth')))
    for name, value in uninterrupted.items():
        torch.testing.assert_close(resumed[name], value, rtol=0, atol=1e-6, msg=name)


def test_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    from mmengine.hooks import Hook

    from gessl_mm.engine.optimizers import NonFiniteError

    class PoisonAfter(Hook):
        """From iteration 3 on, the base loss is NaN."""

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 2:
                base = runner.model.base
                loss = base.loss
                base.loss = lambda *a, **k: {'loss': loss(*a, **k)['loss'] * float('nan')}

    runner = Runner.from_cfg(_config(tmp_path, MAX_ITERS))
    runner.register_hook(PoisonAfter())
    with pytest.raises(NonFiniteError, match='non-finite loss'):
        runner.train()
    assert (tmp_path / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')
    assert not (tmp_path / 'iter_3.pth').exists()
    saved = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['state_dict']
    for name, param in runner.model.named_parameters():  # the weights were not touched
        torch.testing.assert_close(param.detach(), saved[name], rtol=0, atol=0)
