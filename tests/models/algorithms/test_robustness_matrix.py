"""Numerical robustness (issue 13): GeSSL either trains on with finite weights or stops with
a clear error before the weights change, for every base method x hypergradient method x
inner lr from stable to far too large, and on data that could break the numbers.

The matrix runs on 16x16 images with Conv4 (or a one-layer ViT) and tasks of 4 images, one
task per outer update; its assertions never depend on which side of a divergence float
rounding falls: a stable inner lr must train, and beyond it either outcome passes if it is
clean (even alpha = 100 may train on: ``neumann`` and ``cg`` use H at the adapted point, which
a huge step can leave flat). test_gessl_step.py checks specific refusals.
"""
import copy

import pytest
import torch
from helpers import (
    PREPROCESSOR,
    SIZE,
    TINY_BASES,
    build_gessl,
    build_wrapper,
    captured_warnings,
    make_batch,
)
from mmengine.logging import MessageHub
from mmengine.runner import set_random_seed
from mmpretrain.registry import MODELS

from gessl_mm.engine.hypergradients import HYPERGRAD_METHODS
from gessl_mm.engine.optimizers import NonFiniteError

# Stable, large (the paper's), far too large. At init these tiny models' inner losses have
# curvature ||H|| up to ~2e5 (BarlowTwins; 1e4-3e4 for most), so the stable lr is small:
# at 1e-7 the Neumann terms shrink by 10x or more per term.
STABLE_LR, FAR_TOO_LARGE_LR = 1e-7, 100.0
INNER_LRS = (STABLE_LR, 0.01, FAR_TOO_LARGE_LR)
# The tiny ViT of MoCo v3 is sharper still: at 1e-7 its Neumann terms grow 2x per term
# (alpha ||H|| >= 2), so its stable lr is 100x smaller.
STABLE_LR_OF = {'MoCoV3': 1e-9}
UPDATES = 2


def _build(base: str):
    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA reads it
    cfg = dict(type='GeSSL', base=copy.deepcopy(TINY_BASES[base]),
               data_preprocessor=dict(task_size=4, **PREPROCESSOR))
    if base == 'MAE':
        cfg['task_head'] = dict(type='PrototypeTaskHead', feature='backbone')
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _wrapper(model, method='finite_diff', inner_lr=STABLE_LR):
    # Unclipped, so that only the detection stands between a bad update and the weights.
    return build_wrapper(model, inner_lr=inner_lr, hypergrad=dict(type=method),
                         target_steps=2, tasks_per_update=1, clip_grad=None)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _all_finite(state):
    return [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]


def _train(model, wrapper, batches):
    """Train on ``batches``; returns the error that stopped training (or None) and the
    state before the last step taken."""
    for batch in batches:
        before = _state(model)
        try:
            model.train_step(batch, wrapper)
        except NonFiniteError as exc:
            return exc, before
    return None, before


def _batches(num=UPDATES, **kwargs):
    return [make_batch(batch_size=4, size=SIZE, seed=i, **kwargs) for i in range(num)]


def _check_clean(model, error, before):
    """Finite weights, and an error, if any, that is ours, names the key and changed
    nothing."""
    state = _state(model)
    assert not _all_finite(state), _all_finite(state)
    if error is not None:
        assert 'optim_wrapper.inner_lr' in str(error), error
        # SwAV normalises its prototypes in place in every forward (as in a plain step):
        # idempotent, not an update.
        changed = [k for k in state if not torch.equal(state[k], before[k])
                   and 'prototypes' not in k]
        assert not changed, f'{error}\nchanged: {changed}'


@pytest.mark.integration
@pytest.mark.robustness
@pytest.mark.parametrize('inner_lr', INNER_LRS)
@pytest.mark.parametrize('method', HYPERGRAD_METHODS)
@pytest.mark.parametrize('base', list(TINY_BASES))
def test_training_goes_on_finite_or_stops_before_the_weights_change(base, method, inner_lr):
    stable = inner_lr == STABLE_LR
    if stable:
        inner_lr = STABLE_LR_OF.get(base, STABLE_LR)
    set_random_seed(0)
    model = _build(base)
    initial = _state(model)
    wrapper = _wrapper(model, method, inner_lr)
    with captured_warnings() as warnings:
        error, before = _train(model, wrapper, _batches())
    _check_clean(model, error, before)
    if stable:
        assert error is None, error
        assert wrapper.tasks_accumulated == 0  # both updates happened
        moved = [k for k, v in model.base.named_parameters() if not torch.equal(v, initial[
            'base.' + k])]
        assert moved
        assert not any('raised the inner loss' in w.getMessage() for w in warnings)


# -------------------------------------------------------- data that could break numbers
@pytest.mark.integration
@pytest.mark.robustness
@pytest.mark.parametrize('base', list(TINY_BASES))
@pytest.mark.parametrize('data', ['constant images', 'identical views'])
def test_degenerate_data_gives_a_finite_step(base, data):
    set_random_seed(0)
    model = _build(base)
    initial = _state(model)
    wrapper = _wrapper(model)
    batches = _batches()
    for batch in batches:
        if data == 'constant images':
            batch['inputs'] = [torch.full_like(v, 128) for v in batch['inputs']]
        else:
            batch['inputs'] = [batch['inputs'][0], batch['inputs'][0].clone()]
    error, before = _train(model, wrapper, batches)
    assert error is None, error
    state = _state(model)
    assert not _all_finite(state), _all_finite(state)
    assert any(not torch.equal(state[k], initial[k]) for k in state if k.startswith('base.'))


@pytest.mark.integration
@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_non_finite_pixels_are_refused_naming_the_input(value):
    set_random_seed(0)
    model = build_gessl('SimCLR')
    wrapper = build_wrapper(model)
    batch = make_batch()
    batch['inputs'] = [v.float() for v in batch['inputs']]
    batch['inputs'][1][5, 0, 3, 3] = value
    for i, sample in enumerate(batch['data_samples']):
        sample.set_metainfo(dict(img_path=f'img_{i}.png'))
    before = _state(model)
    with pytest.raises(ValueError, match=r'view 1: image\(s\) \[5\] \(img_5.png\)') as info:
        model.train_step(batch, wrapper)
    assert 'model.data_preprocessor' in str(info.value)
    state = _state(model)
    assert all(torch.equal(state[k], before[k]) for k in state)
    # the same finite batch trains
    batch['inputs'][1][5, 0, 3, 3] = 0.0
    model.train_step(batch, wrapper)


@pytest.mark.unit
def test_inference_refuses_non_finite_pixels_too():
    model = build_gessl('SimCLR')
    data = dict(inputs=[torch.full((2, 3, 32, 32), float('nan'))], data_samples=None)
    with pytest.raises(ValueError, match=r'view 0: image\(s\) \[0, 1\]'):
        model.data_preprocessor(data, False)
