"""GeSSL around every base method the paper wraps: it learns, side effects happen once per
outer update, and it is deterministic."""
import copy

import pytest
import torch
from helpers import (
    BASES,
    DINO_CFG,
    VICREG_CFG,
    build_gessl,
    build_wrapper,
    count_center_updates,
    make_batch,
    online_state,
)
from mmengine.model import BaseAveragedModel
from mmengine.runner import set_random_seed
from torch.nn.modules.batchnorm import _BatchNorm

from gessl_mm.models import SSLTask

pytestmark = pytest.mark.integration


def _averaged(model):
    return [m for m in model.modules() if isinstance(m, BaseAveragedModel)]


def _batch_norm_counts(base):
    """Online BatchNorm updates (a momentum encoder's copy its source's counter)."""
    averaged = {id(m) for a in _averaged(base) for m in a.modules()}
    return [int(m.num_batches_tracked) for m in base.modules()
            if isinstance(m, _BatchNorm) and m.track_running_stats and id(m) not in averaged]


def _plain_step_bn_increments(model):
    """BatchNorm updates of one plain training step of the base algorithm."""
    plain = copy.deepcopy(model.base)
    views = model.data_preprocessor(make_batch(), True)['inputs']
    before = _batch_norm_counts(plain)
    plain.loss(model.adapter.loss_inputs(SSLTask(views, views)), None)
    return [a - b for a, b in zip(_batch_norm_counts(plain), before)]


def _run(base, steps, seed=0, **wrapper_kwargs):
    set_random_seed(seed)
    model = build_gessl(base)
    wrapper = build_wrapper(model, **wrapper_kwargs)
    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(steps)]
    return model, wrapper, logs


@pytest.mark.parametrize('base', list(BASES))
def test_gessl_trains_every_base_method(base):
    set_random_seed(0)
    model = build_gessl(base)
    wrapper = build_wrapper(model)  # 8 images / task_size 4 = 2 tasks = 1 outer update
    before = online_state(model)
    ema_before = [int(m.steps) for m in _averaged(model)]
    bn_before = _batch_norm_counts(model.base)
    bn_plain = _plain_step_bn_increments(model)
    queue_ptr = int(model.base.queue_ptr) if base == 'MoCo' else None

    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(2)]

    after = online_state(model)
    changed = [n for n in before if not torch.equal(before[n], after[n])]
    assert len(changed) > len(before) // 2, f'only {len(changed)} of {len(before)} changed'
    for log in logs:
        for key, value in log.items():
            assert torch.isfinite(torch.as_tensor(value)).all(), (key, value)
        assert {'loss', 'inner_loss_before', 'outer_loss', 'kl', 'time_inner'} <= set(log)
    # two outer updates: every side effect happened exactly twice
    assert [int(m.steps) - s for m, s in zip(_averaged(model), ema_before)] == \
        [2] * len(ema_before)
    assert [a - b for a, b in zip(_batch_norm_counts(model.base), bn_before)] == \
        [2 * n for n in bn_plain]
    if base == 'MoCo':
        assert int(model.base.queue_ptr) == (queue_ptr + 2 * 4) % 32
    assert model.head is model.base.head  # hooks such as SwAVHook reach it there


@pytest.mark.parametrize('base', ['SimCLR', 'BYOL', 'MoCoV3', 'MAE'])
def test_gessl_is_deterministic(base):
    first = online_state(_run(base, 2)[0])
    second = online_state(_run(base, 2)[0])
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_side_effects_once_per_update_when_accumulating_across_iterations():
    model, wrapper, _ = _run('BYOL', 3, tasks_per_update=4)  # 2 tasks per iteration
    assert int(model.base.target_net.steps) == 1  # the update completed at iteration 2
    assert wrapper.tasks_accumulated == 2


# ------------------------------------------------ this package's DINO and VICReg, Conv4
CONV4 = dict(type='Conv4', hid_channels=16, out_channels=32)
CONV4_SIMCLR_CFG = dict(type='SimCLR', backbone=CONV4,
                        neck=dict(type='NonLinearNeck', in_channels=32, hid_channels=32,
                                  out_channels=16, num_layers=2, with_avg_pool=True,
                                  norm_cfg=dict(type='BN1d')),
                        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                                  temperature=0.1))


def _gessl_run(base_cfg, steps=2, seed=0):
    set_random_seed(seed)
    model = build_gessl(base_cfg)
    wrapper = build_wrapper(model)  # 8 images / task_size 4 = 2 tasks = 1 outer update
    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(steps)]
    return model, logs


@pytest.mark.parametrize('base_cfg', [DINO_CFG, VICREG_CFG], ids=['DINO', 'VICReg'])
def test_gessl_trains_dino_and_vicreg(base_cfg):
    set_random_seed(0)
    model = build_gessl(base_cfg)
    wrapper = build_wrapper(model)
    before = online_state(model)
    is_dino = base_cfg['type'] == 'DINO'
    if is_dino:
        center_updates = count_center_updates(model.base.head.loss_module)

    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(2)]

    for log in logs:
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
        assert log['outer_loss'] > 1e-5  # a real hypergradient, not only weight decay
    changed = [n for n in before if not torch.equal(before[n], online_state(model)[n])]
    assert len(changed) > len(before) // 2, f'only {len(changed)} of {len(before)} changed'
    if is_dino:
        # two outer updates: the teacher and the center moved exactly twice
        assert int(model.base.target_net.steps) == 2
        assert len(center_updates) == 2
        assert model.base.head.loss_module.center.abs().sum() > 0


@pytest.mark.parametrize('base_cfg', [DINO_CFG, VICREG_CFG], ids=['DINO', 'VICReg'])
def test_gessl_with_dino_and_vicreg_is_deterministic(base_cfg):
    first, _ = _gessl_run(base_cfg)
    second, _ = _gessl_run(base_cfg)
    state1, state2 = first.base.state_dict(), second.base.state_dict()
    for name in state1:
        assert torch.equal(state1[name], state2[name]), name


def test_conv4_simclr_trains_inside_gessl():
    set_random_seed(0)
    model = build_gessl(CONV4_SIMCLR_CFG)
    wrapper = build_wrapper(model)
    before = online_state(model)
    log = model.train_step(make_batch(), wrapper)
    assert torch.isfinite(log['loss']) and log['outer_loss'] > 0
    changed = [n for n in before if not torch.equal(before[n], online_state(model)[n])]
    assert any(n.startswith('backbone.blocks.0.') for n in changed)
    assert len(changed) == len(before), set(before) - set(changed)
