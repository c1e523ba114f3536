"""VICRegLoss against hand computations."""
import math

import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch

from gessl_mm.models import VICRegLoss

pytestmark = pytest.mark.unit


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
