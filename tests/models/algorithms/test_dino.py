"""DINO (this package's): a plain mmpretrain training step with multi-crop, the teacher's
EMA, and one function of the weights across GeSSL's evaluations."""
import math

import pytest
import torch
from helpers import (
    DINO_CFG,
    PROTOTYPES,
    build_gessl,
    build_plain,
    build_wrapper,
    changed_names,
    count_center_updates,
    make_batch,
    trainable_state,
)
from mmengine.model import BaseAveragedModel
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import set_random_seed

from gessl_mm.models import SSLTask


def _teacher(model):
    """The teacher's parameters under the student's names."""
    names = {'0': 'backbone', '1': 'neck'}
    return {names[n[0]] + n[1:]: p.detach().clone()
            for n, p in model.target_net.module.named_parameters()}


@pytest.mark.integration
def test_dino_plain_train_step_multi_crop():
    model = build_plain(DINO_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    assert type(wrapper) is OptimWrapper
    assert isinstance(model.target_net, BaseAveragedModel)
    batch = make_batch(batch_size=4, num_views=2)
    batch['inputs'] += make_batch(batch_size=4, num_views=2, size=16, seed=1)['inputs']
    backbone_shapes, teacher_shapes = [], []
    model.backbone.register_forward_hook(
        lambda m, args, out: backbone_shapes.append(tuple(args[0].shape)))
    model.target_net.register_forward_hook(
        lambda m, args, out: teacher_shapes.append(tuple(args[0].shape)))
    before = trainable_state(model)
    center_updates = count_center_updates(model.head.loss_module)

    log = model.train_step(batch, wrapper)

    assert torch.isfinite(log['loss'])
    # the student sees both global views, then both local views; the teacher the globals
    assert backbone_shapes == [(8, 3, 32, 32), (8, 3, 16, 16)]
    assert teacher_shapes == [(8, 3, 32, 32)]
    assert int(model.target_net.steps) == 1
    assert center_updates == [torch.Size([2, 4, PROTOTYPES])]
    assert model.head.loss_module.center.abs().sum() > 0
    changed = changed_names(before, trainable_state(model))
    assert len(changed) == len(before), set(before) - set(changed)
    # the teacher starts as a copy of the student before the step
    teacher = _teacher(model)
    assert set(teacher) == set(before)
    for name, value in before.items():
        torch.testing.assert_close(teacher[name], value)


@pytest.mark.integration
def test_dino_teacher_follows_the_student_by_ema():
    model = build_plain(DINO_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    model.train_step(make_batch(batch_size=4), wrapper)
    teacher_before = _teacher(model)
    student = trainable_state(model)
    model.train_step(make_batch(batch_size=4, seed=1), wrapper)
    # CosineEMA at step 1 of 100, start momentum 0.01
    momentum = 0.01 * (math.cos(math.pi * 1 / 100) + 1) / 2
    teacher = _teacher(model)
    assert not torch.equal(teacher['neck.mlp.0.weight'], teacher_before['neck.mlp.0.weight'])
    for name in student:
        torch.testing.assert_close(
            teacher[name], (1 - momentum) * teacher_before[name] + momentum * student[name])


@pytest.mark.unit
def test_dino_is_one_function_across_gessl_evaluations():
    """In float64, a finite-difference hypergradient of a DINO task matches the exact one.

    The finite differences evaluate the inner loss at shifted weights with eps 1e-7, so
    this holds only if GeSSL's muted evaluations leave the teacher and the center alone.
    """
    grads = {}
    for method in ('reverse', 'finite_diff'):
        set_random_seed(0)
        model = build_gessl(DINO_CFG).double()
        data = model.data_preprocessor(make_batch(), True)
        views = [v[:4].double() for v in data['inputs']]
        options = dict(eps=1e-7) if method == 'finite_diff' else {}
        wrapper = build_wrapper(model, hypergrad=dict(type=method, **options), target_steps=2)
        center = model.base.head.loss_module.center.clone()
        grads[method] = model.learn_task(SSLTask(views, views), wrapper, seed=1).grads
        assert torch.equal(model.base.head.loss_module.center, center)
        assert int(model.base.target_net.steps) == 0
    flat = {m: torch.cat([g.flatten() for g in grads[m].values()]) for m in grads}
    assert flat['reverse'].norm() > 0
    rel = (flat['finite_diff'] - flat['reverse']).norm() / flat['reverse'].norm()
    assert rel < 1e-5
