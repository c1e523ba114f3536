"""Frozen modules run once per task: exact against running them in every evaluation."""
import pytest
import torch
from helpers import build_gessl, build_wrapper, make_batch
from mmengine.runner import set_random_seed

from gessl_mm.models import SSLTask


def _task_grads(base, cache, inner_params='all', hypergrad='finite_diff', views=2,
                inner_lr=0.05):
    """One task's gradients in float64, frozen modules cached or not; and backbone calls."""
    set_random_seed(0)
    model = build_gessl(base, cache_frozen_modules=cache)
    model.double()
    data = model.data_preprocessor(make_batch(num_views=views), True)
    inputs = [v[:4].double() for v in data['inputs']]
    task = SSLTask(inputs[:2], inputs[2:] or inputs[:2])
    options = dict(eps=1e-7) if hypergrad == 'finite_diff' else {}
    wrapper = build_wrapper(model, hypergrad=dict(type=hypergrad, **options),
                            inner_params=inner_params, target_steps=3, inner_lr=inner_lr)
    calls = []
    backbone_type = type(model.base.backbone)
    forward = backbone_type.forward

    def counted(self, *args, **kwargs):  # computed forwards only, not replayed calls
        calls.append(1)
        return forward(self, *args, **kwargs)

    backbone_type.forward = counted
    try:
        grads = model.learn_task(task, wrapper, seed=1).grads
    finally:
        backbone_type.forward = forward
    return grads, len(calls)


def _rel(a, b):
    flat = [torch.cat([g.flatten() for g in d.values()]) for d in (a, b)]
    return ((flat[0] - flat[1]).norm() / flat[1].norm()).item()


@pytest.mark.unit
@pytest.mark.parametrize('base', ['BYOL', 'MoCo'])
def test_momentum_encoder_runs_once_per_task_with_the_same_result(base):
    """Full mode: the momentum encoder's outputs are constants of the task."""
    cached, _ = _task_grads(base, True, hypergrad='reverse')
    uncached, _ = _task_grads(base, False, hypergrad='reverse')
    assert _rel(cached, uncached) < 1e-12


@pytest.mark.unit
@pytest.mark.parametrize('hypergrad', ['reverse', 'finite_diff', 'cg'])
def test_heads_only_mode_runs_the_backbone_once_and_is_exact(hypergrad):
    """inner_params = the heads: one backbone forward per task (SimCLR encodes every
    support image in its loss; the task head reuses those features), same hypergradient
    as running the backbone in every evaluation, backbone weights included."""
    # cg needs I + alpha H positive definite: at alpha 0.05 this tiny net's is not (and cg
    # refuses the task), at 1e-4 it is.
    inner_lr = 1e-4 if hypergrad == 'cg' else 0.05
    cached, cached_calls = _task_grads('SimCLR', True, ['neck'], hypergrad, inner_lr=inner_lr)
    uncached, uncached_calls = _task_grads('SimCLR', False, ['neck'], hypergrad,
                                           inner_lr=inner_lr)
    assert cached_calls == 1
    assert uncached_calls >= 5  # K + (lambda - 1) inner, pi of the target and of phi_K
    # float64; BatchNorm sums the same images in another order, which finite differences
    # (eps 1e-7) amplify
    assert _rel(cached, uncached) < (1e-6 if hypergrad == 'finite_diff' else 1e-10)
    assert cached['backbone.conv1.weight'].abs().sum() > 0


@pytest.mark.unit
def test_heads_only_mode_encodes_query_views_once_more():
    _, calls = _task_grads('SimCLR', True, ['neck'], views=4)
    assert calls == 2  # the support views in the loss, the query views for pi


@pytest.mark.integration
@pytest.mark.parametrize('base', ['BYOL', 'MAE', 'MoCoV3'])
def test_heads_only_mode_trains_every_kind_of_base(base):
    set_random_seed(0)
    model = build_gessl(base)
    wrapper = build_wrapper(model, inner_params=['neck', 'head'])
    before = model.base.backbone.state_dict(keep_vars=False)
    before = {k: v.clone() for k, v in before.items()}
    log = model.train_step(make_batch(), wrapper)
    assert torch.isfinite(log['loss'])
    after = model.base.backbone.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if 'weight' in k)


@pytest.mark.integration
def test_heads_only_mode_advances_batchnorm_statistics_once_per_update():
    """The backbone's one forward at theta of the update's last task is its live pass."""
    set_random_seed(0)
    model = build_gessl('SimCLR')
    wrapper = build_wrapper(model, inner_params=['neck'], tasks_per_update=4)
    bn = model.base.backbone.bn1
    model.train_step(make_batch(), wrapper)  # 2 of 4 tasks
    assert int(bn.num_batches_tracked) == 0
    model.train_step(make_batch(seed=1), wrapper)
    assert int(bn.num_batches_tracked) == 1
    assert int(model.base.neck.bn0.num_batches_tracked) == 1


@pytest.mark.integration
def test_channels_last_gives_the_same_step():
    """channels_last changes the memory layout only (same weights after a step)."""
    states, initial = [], None
    for channels_last in (False, True):
        set_random_seed(0)
        model = build_gessl('SimCLR', channels_last=channels_last)
        model.double()
        if initial is None:  # (random init fills channels-last storage in another order)
            initial = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict(initial)
        wrapper = build_wrapper(model, hypergrad=dict(type='reverse'))
        model.train_step(make_batch(), wrapper)
        conv = model.base.backbone.conv1.weight
        assert conv.is_contiguous(memory_format=torch.channels_last) == channels_last
        states.append({n: p.detach().clone() for n, p in model.base.named_parameters()})
    for name, value in states[0].items():
        torch.testing.assert_close(states[1][name], value, rtol=1e-9, atol=1e-9)


@pytest.mark.unit
def test_compile_option_compiles_the_backbone(monkeypatch):
    """model.compile reaches torch.compile for the backbone (compiling itself takes minutes
    on CPU: it is measured by tools/analysis/benchmark.py --compile, docs/benchmarks.md)."""
    compiled = []
    monkeypatch.setattr(torch.nn.Module, 'compile',
                        lambda self, **kwargs: compiled.append((self, kwargs)))
    model = build_gessl('SimCLR', compile=dict(mode='reduce-overhead'))
    assert compiled == [(model.base.backbone, dict(mode='reduce-overhead'))]
    with pytest.raises(TypeError, match='model.compile must be a bool or a dict'):
        build_gessl('SimCLR', compile='yes')


@pytest.mark.integration
@pytest.mark.parametrize('base', ['BYOL', 'MoCo'])
def test_heads_only_mode_moves_momentum_encoder_and_queue_once_per_update(base):
    """BYOL: the recording forward is the live pass (its target outputs are replayed).
    MoCo: a separate live pass, so the task's passes never read their own keys from the
    queue. Either way one EMA step (and one enqueue) per update."""
    set_random_seed(0)
    model = build_gessl(base)
    wrapper = build_wrapper(model, inner_params=['neck', 'head'], tasks_per_update=2)
    assert model.adapter.live_pass_may_record == (base == 'BYOL')
    queue_before = model.base.queue.clone() if base == 'MoCo' else None
    model.train_step(make_batch(), wrapper)
    model.train_step(make_batch(seed=1), wrapper)
    ema = model.base.target_net if base == 'BYOL' else model.base.encoder_k
    assert int(ema.steps) == 2
    if base == 'MoCo':
        assert int(model.base.queue_ptr) == 2 * 4  # two enqueues of a task of 4 keys
        assert not torch.equal(queue_before, model.base.queue)
