"""DINO, VICReg and the Conv4 backbone: losses against hand computations, plain mmpretrain
training steps, and training inside GeSSL."""
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


# ------------------------------------------------------------------------ DINO loss
def _softmax(row, temp):
    exps = [math.exp(x / temp) for x in row]
    return [e / sum(exps) for e in exps]


def test_dino_loss_matches_hand_computation():
    student = [[[0.2, -0.1, 0.4], [1.0, 0.0, -0.5]],   # view 0 (global)
               [[-0.3, 0.8, 0.1], [0.1, 0.1, 0.3]],    # view 1 (global)
               [[0.5, 0.5, -1.0], [-0.2, 0.6, 0.0]]]   # view 2 (local)
    teacher = [[[0.3, 0.0, 0.2], [0.9, -0.1, -0.4]],
               [[-0.2, 0.7, 0.2], [0.0, 0.2, 0.4]]]
    center = [0.05, -0.1, 0.2]
    t_temp, s_temp = 0.04, 0.1
    loss_fn = DINOLoss(out_channels=3, teacher_temp=t_temp, student_temp=s_temp)
    loss_fn.center.copy_(torch.tensor([center]))

    total, terms = 0.0, 0
    for g in range(2):
        for v in range(3):
            if v == g:
                continue
            per_image = []
            for n in range(2):
                q = _softmax([t - c for t, c in zip(teacher[g][n], center)], t_temp)
                p = _softmax(student[v][n], s_temp)
                per_image.append(-sum(qi * math.log(pi) for qi, pi in zip(q, p)))
            total += sum(per_image) / 2
            terms += 1
    expected = total / terms
    assert terms == 4  # (g, v) in {(0, 1), (0, 2), (1, 0), (1, 2)}

    loss = loss_fn(torch.tensor(student), torch.tensor(teacher), update_center=False)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss_fn.center[0].tolist() == pytest.approx(center)  # not asked to move


def test_dino_center_follows_the_ema_formula():
    loss_fn = DINOLoss(out_channels=2, center_momentum=0.9)
    teacher1 = torch.tensor([[[1.0, 2.0], [3.0, -2.0]], [[0.0, 1.0], [4.0, 3.0]]])
    teacher2 = torch.tensor([[[-1.0, 0.5], [2.0, 2.0]], [[1.0, -1.0], [0.0, 0.5]]])
    loss_fn(torch.randn(3, 2, 2), teacher1)
    mean1 = [(1 + 3 + 0 + 4) / 4, (2 - 2 + 1 + 3) / 4]
    expected = [0.9 * 0 + 0.1 * m for m in mean1]
    assert loss_fn.center[0].tolist() == pytest.approx(expected)
    loss_fn(torch.randn(2, 2, 2), teacher2)
    mean2 = [(-1 + 2 + 1 + 0) / 4, (0.5 + 2 - 1 + 0.5) / 4]
    expected = [0.9 * e + 0.1 * m for e, m in zip(expected, mean2)]
    assert loss_fn.center[0].tolist() == pytest.approx(expected)
    assert 'center' in dict(loss_fn.named_buffers())  # saved in checkpoints


def test_dino_loss_rejects_mismatched_views():
    with pytest.raises(ValueError, match='1 <= G <= V'):
        DINOLoss(out_channels=3)(torch.randn(2, 4, 3), torch.randn(3, 4, 3))


def test_dino_neck_scores_prototypes_by_cosine():
    neck = MODELS.build(dict(DINO_NECK, with_avg_pool=True))
    neck.init_weights()
    feats = (torch.randn(5, FEAT, 2, 2), )
    scores = neck(feats)[0]
    assert scores.shape == (5, PROTOTYPES)
    # unit-norm embeddings against unit-norm prototypes: cosines
    bottleneck = torch.nn.functional.normalize(neck.mlp(feats[0].mean((2, 3))), dim=-1)
    prototypes = neck.last_layer.weight_v / neck.last_layer.weight_v.norm(dim=1, keepdim=True)
    torch.testing.assert_close(scores, bottleneck @ prototypes.T)
    assert 'last_layer.weight_g' not in dict(neck.named_parameters())
    # with a learned gain, a prototype's score is its gain times the cosine
    free = MODELS.build(dict(DINO_NECK, norm_last_layer=False))
    assert free.last_layer.weight_g.requires_grad
    with torch.no_grad():
        free.last_layer.weight_g[0] = 3.0
        emb = torch.nn.functional.normalize(free.mlp(feats[0].mean((2, 3))), dim=-1)
        cos = emb @ torch.nn.functional.normalize(free.last_layer.weight_v[0], dim=0)
        torch.testing.assert_close(free(feats)[0][:, 0], 3 * cos)


# ---------------------------------------------------------------------- VICReg loss
def test_vicreg_loss_matches_hand_computation():
    z1 = [[0.5, 1.0, -0.2], [0.1, -0.4, 0.3], [0.9, 0.2, 2.5], [-0.3, 0.6, 0.0]]
    z2 = [[0.4, 1.2, -0.1], [0.0, -0.5, 0.5], [1.1, 0.0, 2.0], [-0.2, 0.9, 0.3]]
    num, dim, eps = 4, 3, 1e-4

    invariance = sum((a - b)**2 for r1, r2 in zip(z1, z2) for a, b in zip(r1, r2)) / (num * dim)

    def variance(z):
        hinge = 0.0
        for j in range(dim):
            mean = sum(row[j] for row in z) / num
            var = sum((row[j] - mean)**2 for row in z) / (num - 1)
            hinge += max(0.0, 1.0 - math.sqrt(var + eps))
        return hinge / dim

    def covariance(z):
        means = [sum(row[j] for row in z) / num for j in range(dim)]
        total = 0.0
        for i in range(dim):
            for j in range(dim):
                if i != j:
                    cov = sum((row[i] - means[i]) * (row[j] - means[j])
                              for row in z) / (num - 1)
                    total += cov**2
        return total / dim

    assert 0 < variance(z1) and 0 < covariance(z1)  # every term is active
    expected = (25 * invariance + 25 * (variance(z1) + variance(z2)) +
                1 * (covariance(z1) + covariance(z2)))
    loss = VICRegLoss()(torch.tensor(z1), torch.tensor(z2))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    weighted = VICRegLoss(sim_coeff=1., std_coeff=0., cov_coeff=0.)
    assert weighted(torch.tensor(z1), torch.tensor(z2)).item() == \
        pytest.approx(invariance, rel=1e-5)


def test_vicreg_variance_hinge_is_zero_for_spread_embeddings():
    z = torch.tensor([[3.0, -4.0], [-3.0, 4.0], [3.0, 4.0], [-3.0, -4.0]])  # std > 1, cov 0
    loss_fn = VICRegLoss()
    assert loss_fn.variance(z).item() == 0
    assert loss_fn.covariance(z).item() == pytest.approx(0, abs=1e-7)
    assert loss_fn(z, z).item() == pytest.approx(0, abs=1e-6)


# ------------------------------------------------------------------- plain training
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


@pytest.mark.parametrize('base_cfg', [DINO_CFG, VICREG_CFG], ids=['DINO', 'VICReg'])
def test_gessl_with_dino_and_vicreg_is_deterministic(base_cfg):
    first, _ = _gessl_run(base_cfg)
    second, _ = _gessl_run(base_cfg)
    state1, state2 = first.base.state_dict(), second.base.state_dict()
    for name in state1:
        assert torch.equal(state1[name], state2[name]), name


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
        params = {n: p for n, p in model.base.named_parameters() if p.requires_grad}
        center = model.base.head.loss_module.center.clone()
        with model.guard.muted():
            grads[method], _ = model._learn_task(SSLTask(views, views), 1, params,
                                                 list(params), wrapper)
        assert torch.equal(model.base.head.loss_module.center, center)
        assert int(model.base.target_net.steps) == 0
    flat = {m: torch.cat([g.flatten() for g in grads[m].values()]) for m in grads}
    assert flat['reverse'].norm() > 0
    rel = (flat['finite_diff'] - flat['reverse']).norm() / flat['reverse'].norm()
    assert rel < 1e-5


# --------------------------------------------------------------------------- Conv4
@pytest.mark.parametrize('size,spatial', [(32, 2), (84, 5)])
def test_conv4_output_shape(size, spatial):
    backbone = MODELS.build(dict(type='Conv4'))
    outs = backbone(torch.randn(2, 3, size, size))
    assert isinstance(outs, tuple) and len(outs) == 1
    assert outs[0].shape == (2, 64, spatial, spatial)
    narrow = MODELS.build(dict(type='Conv4', in_channels=1, hid_channels=8, out_channels=24,
                               out_indices=(1, 3)))
    feats = narrow(torch.randn(2, 1, size, size))
    assert [tuple(f.shape[1:]) for f in feats] == [(8, size // 4, size // 4),
                                                   (24, spatial, spatial)]


def test_conv4_frozen_stages_and_norm_eval():
    backbone = MODELS.build(dict(type='Conv4', frozen_stages=2, norm_eval=True))
    backbone.train()
    frozen = [all(not p.requires_grad for p in b.parameters()) for b in backbone.blocks]
    assert frozen == [True, True, False, False]
    assert not backbone.blocks[0].training and backbone.blocks[2].training
    bns = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 4 and not any(bn.training for bn in bns)
    backbone(torch.randn(2, 3, 32, 32))
    assert all(int(bn.num_batches_tracked) == 0 for bn in bns)

    trainable = MODELS.build(dict(type='Conv4')).train()
    assert all(p.requires_grad for p in trainable.parameters())
    assert all(m.training for m in trainable.modules())


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
