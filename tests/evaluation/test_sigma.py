"""The sigma-measurement (gessl_mm.evaluation.sigma)."""
import math

import numpy as np
import pytest
import torch
from synthetic_data import clusters

from gessl_mm.evaluation import (
    sigma_measure,
)
from gessl_mm.evaluation.sigma import task_kl

pytestmark = pytest.mark.unit


def test_task_kl_onehot_is_the_true_class_nll():
    support = torch.eye(2)
    query = torch.tensor([[1., 0.], [1., 1.]])
    kl = task_kl(support, torch.tensor([0, 1]), query, torch.tensor([0, 1]), temperature=0.1)
    # item 1: cos = (1, 0) -> -log softmax(10, 0)[0]; item 2: cos equal -> log 2
    expected = (math.log1p(math.exp(-10)) + math.log(2)) / 2
    assert math.isclose(kl, expected, rel_tol=1e-5)
    sharper = task_kl(support, torch.tensor([0, 1]), query[:1], torch.tensor([0]), 0.05)
    assert sharper < math.log1p(math.exp(-10))  # lower temperature, more confident
    with pytest.raises(ValueError, match='optimum'):
        task_kl(support, torch.tensor([0, 1]), query, torch.tensor([0, 1]), optimum='x')


@pytest.mark.parametrize('optimum', ['onehot', 'fitted'])
def test_sigma_lower_for_separable_features(optimum):
    features, labels = clusters()
    good = sigma_measure(features, labels, 5, 2, 5, tasks=10, optimum=optimum)
    noise = torch.randn(features.shape, generator=torch.Generator().manual_seed(2))
    bad = sigma_measure(noise, labels, 5, 2, 5, tasks=10, optimum=optimum)
    for res in (good, bad):
        values = np.array(res['per_task'])
        assert len(values) == 10 and np.isfinite(values).all() and (values > 0).all()
        assert math.isclose(res['sigma'], values.sum()) and math.isclose(res['mean'],
                                                                           values.mean())
        assert res['optimum'] == optimum and res['temperature'] == 0.1
    assert good['mean'] < 0.2 * bad['mean'], (good['mean'], bad['mean'])
    if optimum == 'onehot':  # a near-uniform pi_theta pays about log(way)
        assert good['mean'] < 0.05 and bad['mean'] > 0.5
