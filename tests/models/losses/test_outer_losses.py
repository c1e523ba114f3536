"""The outer losses of GeSSL (OUTER_LOSSES)."""
import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch

from gessl_mm.models import OUTER_LOSSES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize('name', sorted(OUTER_LOSSES.module_dict))
def test_outer_losses_vanish_on_equal_distributions(name):
    fn = OUTER_LOSSES.get(name)
    target = torch.randn(6, 4) * 3
    other = torch.randn(6, 4) * 3
    assert fn(target, other) > fn(target, target) - 1e-6
    if name != 'ce':  # CE against the hard target keeps the target's entropy
        assert abs(float(fn(target, target))) < 1e-3


def test_outer_loss_config_takes_a_name_or_a_dict_with_options():
    from gessl_mm.models.losses.outer_losses import build_outer_loss, kl_loss, wasserstein_loss
    assert build_outer_loss('kl') is kl_loss
    target, other = torch.randn(6, 4), torch.randn(6, 4)
    loss = build_outer_loss(dict(type='wasserstein', epsilon=0.5, iters=5))
    assert torch.equal(loss(target, other), wasserstein_loss(target, other, 0.5, 5))
    assert not torch.equal(loss(target, other), wasserstein_loss(target, other))
    for bad in ('l1', dict(type='l1'), dict(epsilon=0.1)):
        with pytest.raises(ValueError, match='model.outer_loss=.* is not an outer loss'):
            build_outer_loss(bad)
