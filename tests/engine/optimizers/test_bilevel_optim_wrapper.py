"""BiLevelOptimWrapper: accumulation over tasks_per_update, its state, bad configs
named, and a plain optimizer wrapper refused."""
import pytest
import torch
from helpers import (
    build_gessl,
    build_wrapper,
    make_batch,
    online_state,
)
from mmengine.optim import build_optim_wrapper
from mmengine.runner import set_random_seed


@pytest.mark.integration
def test_outer_update_waits_for_tasks_per_update():
    set_random_seed(0)
    model = build_gessl('SimCLR')
    wrapper = build_wrapper(model, tasks_per_update=4)
    before = online_state(model)
    model.train_step(make_batch(), wrapper)  # 2 of 4 tasks
    assert all(torch.equal(before[n], p) for n, p in online_state(model).items())
    assert wrapper.tasks_accumulated == 2
    model.train_step(make_batch(seed=1), wrapper)
    assert wrapper.tasks_accumulated == 0
    assert not all(torch.equal(before[n], p) for n, p in online_state(model).items())


@pytest.mark.integration
def test_wrapper_state_keeps_a_half_accumulated_update():
    set_random_seed(0)
    model = build_gessl('SimCLR')
    wrapper = build_wrapper(model, tasks_per_update=4)
    model.train_step(make_batch(), wrapper)
    state = wrapper.state_dict()
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    wrapper.zero_grad()
    fresh = build_wrapper(model, tasks_per_update=4)
    fresh.load_state_dict(state)
    assert fresh.tasks_accumulated == 2
    restored = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(restored) == len(grads)
    assert all(torch.equal(a, b) for a, b in zip(grads, restored))


# -------------------------------------------------------------------- bad input
@pytest.mark.unit
@pytest.mark.parametrize('kwargs,message', [
    (dict(inner_steps=0), 'optim_wrapper.inner_steps must be a positive int'),
    (dict(target_steps=0), 'optim_wrapper.target_steps must be a positive int'),
    (dict(inner_lr=-1.0), 'optim_wrapper.inner_lr must be a positive float'),
    (dict(hypergrad=dict(type='newton')), "hypergrad.type='newton'"),
    (dict(hypergrad=dict(type='cg', eps=0.1)), r"\['eps'\] do not apply to 'cg'"),
    (dict(accumulative_counts=2), 'set optim_wrapper.tasks_per_update instead'),
])
def test_bad_optim_wrapper_config_names_the_key(kwargs, message):
    model = build_gessl('SimCLR')
    with pytest.raises(ValueError, match=message):
        build_wrapper(model, **kwargs)


@pytest.mark.unit
def test_plain_optim_wrapper_is_refused():
    model = build_gessl('SimCLR')
    plain = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(TypeError, match="type='BiLevelOptimWrapper'"):
        model.train_step(make_batch(), plain)
    with pytest.raises(RuntimeError, match='driven by GeSSL.train_step'):
        build_wrapper(model).update_params(torch.tensor(1.0))
