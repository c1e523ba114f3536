"""Hypergradient methods are registered classes: built from ``optim_wrapper.hypergrad``,
validating their own options, declaring what the inner loop must keep; a new method is one
registered class."""
import pytest
import torch
from helpers import build_gessl, build_wrapper, make_batch
from mmengine.runner import set_random_seed

from gessl_mm.engine.hypergradients import (
    HYPERGRAD_METHODS,
    HYPERGRADIENTS,
    FirstOrderHypergradient,
    build_hypergradient,
)

pytestmark = pytest.mark.unit


def test_the_documented_methods_are_registered():
    assert set(HYPERGRAD_METHODS) == {'first_order', 'reverse', 'finite_diff', 'neumann', 'cg'}
    assert type(build_hypergradient(None)).__name__ == 'FiniteDiffHypergradient'  # default


@pytest.mark.parametrize('cfg,graph,keeps', [
    (dict(type='reverse'), True, False),
    (dict(type='first_order'), False, False),
    (dict(type='finite_diff', eps=0.02), False, False),
    (dict(type='finite_diff', scheme='forward'), False, True),
    (dict(type='neumann', terms=3), False, False),
    (dict(type='cg', iters=2, tol=1e-6), False, False),
])
def test_methods_declare_what_the_inner_loop_keeps(cfg, graph, keeps):
    method = build_hypergradient(cfg)
    assert method.differentiates_inner_steps is graph
    assert method.keeps_inner_grads is keeps
    for key, value in cfg.items():
        if key != 'type':
            assert getattr(method, key) == value
            assert f'{key}={value!r}' in repr(method)


@pytest.mark.parametrize('cfg,message', [
    (dict(type='newton'), "hypergrad.type='newton' is not a hypergradient method"),
    (dict(type='cg', eps=0.1), r"\['eps'\] do not apply to 'cg'; it takes \['iters', 'tol'\]"),
    (dict(type='reverse', terms=2), r"\['terms'\] do not apply to 'reverse'; it takes no "),
    (dict(type='finite_diff', scheme='backward'), "hypergrad.scheme='backward'"),
])
def test_bad_options_are_named(cfg, message):
    with pytest.raises(ValueError, match=message):
        build_hypergradient(cfg)


def test_a_registered_method_is_used_by_the_step():
    """A new method: one class registered in HYPERGRADIENTS, named in the config."""

    @HYPERGRADIENTS.register_module('doubled_first_order', force=True)
    class DoubledFirstOrder(FirstOrderHypergradient):

        def __init__(self, factor: float = 2.0) -> None:
            self.factor = factor

        def through_inner_steps(self, v, fixed, names, inner_loss_fn, inner_lr, trajectory):
            for n in fixed:
                fixed[n] = self.factor * fixed[n]
            return {n: self.factor * g for n, g in v.items()}

    grads = {}
    try:
        for method in ('first_order', 'doubled_first_order'):
            set_random_seed(0)
            model = build_gessl('SimCLR')
            # Two tasks per batch, four per update: the grads stay accumulated, unapplied.
            wrapper = build_wrapper(model, hypergrad=dict(type=method), tasks_per_update=4)
            model.train_step(make_batch(), wrapper)
            grads[method] = [p.grad.clone() for p in model.base.parameters()
                             if p.grad is not None]
    finally:
        HYPERGRADIENTS.module_dict.pop('doubled_first_order')
    assert grads['first_order'] and any(g.abs().sum() > 0 for g in grads['first_order'])
    for plain, doubled in zip(grads['first_order'], grads['doubled_first_order']):
        torch.testing.assert_close(doubled, 2 * plain)
