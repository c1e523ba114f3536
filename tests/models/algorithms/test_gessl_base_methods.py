"""GeSSL around every base method the paper wraps: it learns, side effects happen once per
outer update, and it is deterministic."""
import copy

import pytest
import torch
from helpers import BASES, build_gessl, build_wrapper, make_batch, online_state
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
