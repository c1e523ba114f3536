"""DINO and VICReg: plain mmpretrain training steps and training inside GeSSL; the
Conv4 backbone inside GeSSL."""
import copy
import math

import pytest
import torch
from helpers import FEAT, PREPROCESSOR, TINY_RESNET, build_wrapper, make_batch, online_state
from mmengine.logging import MessageHub
from mmengine.model import BaseAveragedModel
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import set_random_seed
from mmpretrain.registry import MODELS

from gessl_mm.models import DINOLoss, SSLTask, VICRegLoss

PROTOTYPES = 32
# DINONeck's default init (std 0.02) is made for 2048-wide layers; on 32-wide layers the
# projection before the L2 norm is ~1e-3 and the first SGD step collapses it.
DINO_NECK = dict(type='DINONeck', in_channels=FEAT, out_channels=PROTOTYPES, hid_channels=32,
                 bottleneck_channels=16, init_cfg=dict(type='Kaiming', layer='Linear'))
DINO_CFG = dict(type='DINO', base_momentum=0.01, backbone=TINY_RESNET, neck=DINO_NECK,
                head=dict(type='DINOHead',
                          loss=dict(type='DINOLoss', out_channels=PROTOTYPES)))
VICREG_CFG = dict(type='VICReg', backbone=TINY_RESNET,
                  neck=dict(type='NonLinearNeck', in_channels=FEAT, hid_channels=32,
                            out_channels=32, num_layers=3, with_last_bn=False,
                            with_avg_pool=True, norm_cfg=dict(type='BN1d')),
                  head=dict(type='VICRegHead', loss=dict(type='VICRegLoss')))
CONV4 = dict(type='Conv4', hid_channels=16, out_channels=32)
CONV4_SIMCLR_CFG = dict(type='SimCLR', backbone=CONV4,
                        neck=dict(type='NonLinearNeck', in_channels=32, hid_channels=32,
                                  out_channels=16, num_layers=2, with_avg_pool=True,
                                  norm_cfg=dict(type='BN1d')),
                        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                                  temperature=0.1))


def _build(cfg):
    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA reads it
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def _build_plain(cfg):
    return _build(dict(cfg, data_preprocessor=dict(type='SelfSupDataPreprocessor',
                                                   **PREPROCESSOR)))


def _build_gessl(base_cfg):
    return _build(dict(type='GeSSL', base=base_cfg,
                       data_preprocessor=dict(task_size=4, **PREPROCESSOR)))


def _params(module):
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


def _changed(before, after):
    return [n for n in before if not torch.equal(before[n], after[n])]


def _teacher(model):
    """The teacher's parameters under the student's names."""
    names = {'0': 'backbone', '1': 'neck'}
    return {names[n[0]] + n[1:]: p.detach().clone()
            for n, p in model.target_net.module.named_parameters()}


def _count_center_updates(loss: DINOLoss):
    """Count the center updates of ``loss`` (wraps its bound method)."""
    calls = []
    update = loss.update_center

    def counting(teacher):
        calls.append(teacher.shape)
        update(teacher)

    loss.update_center = counting
    return calls


# ------------------------------------------------------------------- plain training
@pytest.mark.integration
def test_dino_plain_train_step_multi_crop():
    model = _build_plain(DINO_CFG)
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
    before = _params(model)
    center_updates = _count_center_updates(model.head.loss_module)

    log = model.train_step(batch, wrapper)

    assert torch.isfinite(log['loss'])
    # the student sees both global views, then both local views; the teacher the globals
    assert backbone_shapes == [(8, 3, 32, 32), (8, 3, 16, 16)]
    assert teacher_shapes == [(8, 3, 32, 32)]
    assert int(model.target_net.steps) == 1
    assert center_updates == [torch.Size([2, 4, PROTOTYPES])]
    assert model.head.loss_module.center.abs().sum() > 0
    changed = _changed(before, _params(model))
    assert len(changed) == len(before), set(before) - set(changed)
    # the teacher starts as a copy of the student before the step
    teacher = _teacher(model)
    assert set(teacher) == set(before)
    for name, value in before.items():
        torch.testing.assert_close(teacher[name], value)


@pytest.mark.integration
def test_dino_teacher_follows_the_student_by_ema():
    model = _build_plain(DINO_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    model.train_step(make_batch(batch_size=4), wrapper)
    teacher_before = _teacher(model)
    student = _params(model)
    model.train_step(make_batch(batch_size=4, seed=1), wrapper)
    # CosineEMA at step 1 of 100, start momentum 0.01
    momentum = 0.01 * (math.cos(math.pi * 1 / 100) + 1) / 2
    teacher = _teacher(model)
    assert not torch.equal(teacher['neck.mlp.0.weight'], teacher_before['neck.mlp.0.weight'])
    for name in student:
        torch.testing.assert_close(
            teacher[name], (1 - momentum) * teacher_before[name] + momentum * student[name])


@pytest.mark.integration
def test_vicreg_plain_train_step():
    model = _build_plain(VICREG_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    batch = make_batch(batch_size=6)
    views = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    with torch.no_grad():
        z1, z2 = (model.neck(model.backbone(v))[0] for v in views)
        expected = VICRegLoss()(z1, z2)
    before = _params(model)

    log = model.train_step(batch, wrapper)

    torch.testing.assert_close(log['loss'], expected)
    changed = _changed(before, _params(model))
    assert len(changed) == len(before), set(before) - set(changed)


# ------------------------------------------------------------------- inside GeSSL
def _gessl_run(base_cfg, steps=2, seed=0):
    set_random_seed(seed)
    model = _build_gessl(base_cfg)
    wrapper = build_wrapper(model)  # 8 images / task_size 4 = 2 tasks = 1 outer update
    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(steps)]
    return model, logs


@pytest.mark.integration
@pytest.mark.parametrize('base_cfg', [DINO_CFG, VICREG_CFG], ids=['DINO', 'VICReg'])
def test_gessl_trains_dino_and_vicreg(base_cfg):
    set_random_seed(0)
    model = _build_gessl(base_cfg)
    wrapper = build_wrapper(model)
    before = online_state(model)
    is_dino = base_cfg['type'] == 'DINO'
    if is_dino:
        center_updates = _count_center_updates(model.base.head.loss_module)

    logs = [model.train_step(make_batch(seed=i), wrapper) for i in range(2)]

    for log in logs:
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
        assert log['outer_loss'] > 1e-5  # a real hypergradient, not only weight decay
    changed = _changed(before, online_state(model))
    assert len(changed) > len(before) // 2, f'only {len(changed)} of {len(before)} changed'
    if is_dino:
        # two outer updates: the teacher and the center moved exactly twice
        assert int(model.base.target_net.steps) == 2
        assert len(center_updates) == 2
        assert model.base.head.loss_module.center.abs().sum() > 0


@pytest.mark.integration
@pytest.mark.parametrize('base_cfg', [DINO_CFG, VICREG_CFG], ids=['DINO', 'VICReg'])
def test_gessl_with_dino_and_vicreg_is_deterministic(base_cfg):
    first, _ = _gessl_run(base_cfg)
    second, _ = _gessl_run(base_cfg)
    state1, state2 = first.base.state_dict(), second.base.state_dict()
    for name in state1:
        assert torch.equal(state1[name], state2[name]), name


@pytest.mark.unit
def test_dino_is_one_function_across_gessl_evaluations():
    """In float64, a finite-difference hypergradient of a DINO task matches the exact one.

    The finite differences evaluate the inner loss at shifted weights with eps 1e-7, so
    this holds only if GeSSL's muted evaluations leave the teacher and the center alone.
    """
    grads = {}
    for method in ('reverse', 'finite_diff'):
        set_random_seed(0)
        model = _build_gessl(DINO_CFG).double()
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


@pytest.mark.integration
def test_conv4_simclr_trains_inside_gessl():
    set_random_seed(0)
    model = _build_gessl(CONV4_SIMCLR_CFG)
    wrapper = build_wrapper(model)
    before = online_state(model)
    log = model.train_step(make_batch(), wrapper)
    assert torch.isfinite(log['loss']) and log['outer_loss'] > 0
    changed = _changed(before, online_state(model))
    assert any(n.startswith('backbone.blocks.0.') for n in changed)
    assert len(changed) == len(before), set(before) - set(changed)
