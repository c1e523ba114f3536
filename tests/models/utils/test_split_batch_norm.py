"""SplitBN: batch norm over groups of the batch in training, plain batch norm otherwise."""
import copy

import pytest
import torch
from helpers import BASES, TINY_RESNET, build_gessl, build_wrapper, make_batch, online_state
from mmcv.cnn import build_norm_layer
from mmengine.runner import set_random_seed
from mmpretrain.registry import MODELS
from torch import nn

pytestmark = pytest.mark.unit


def _bn_like(split: nn.Module) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(split.num_features)
    bn.load_state_dict(split.state_dict())
    return bn


def test_training_normalises_each_group_on_its_own_and_averages_the_running_stats():
    torch.manual_seed(0)
    _, split = build_norm_layer(dict(type='SplitBN', group_size=4), 3)
    with torch.no_grad():
        split.weight.uniform_(0.5, 1.5)
        split.bias.uniform_(-1, 1)
    reference = _bn_like(split)
    x = torch.randn(12, 3, 5, 5) * 3 + torch.arange(12.).view(12, 1, 1, 1)  # 3 groups of 4
    out = split(x)
    expected = torch.empty_like(x)
    means, variances = [], []
    for j in range(3):  # samples j, j + 3, j + 6, j + 9
        bn = _bn_like(reference)
        expected[j::3] = bn(x[j::3])
        means.append(bn.running_mean)
        variances.append(bn.running_var)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(split.running_mean, torch.stack(means).mean(0))
    torch.testing.assert_close(split.running_var, torch.stack(variances).mean(0))
    assert split.num_batches_tracked.item() == 1
    # one statistic for the whole batch would have given another output
    assert not torch.allclose(out, _bn_like(reference)(x), atol=1e-3)


def test_small_batches_and_evaluation_are_plain_batch_norm():
    torch.manual_seed(0)
    _, split = build_norm_layer(dict(type='SplitBN', group_size=8), 4)
    x = torch.randn(8, 4, 3, 3)
    torch.testing.assert_close(split(x), _bn_like(split).train()(x))  # one group
    split(torch.randn(16, 4, 3, 3))
    split.eval()
    torch.testing.assert_close(split(x), _bn_like(split).eval()(x))


def test_a_resnet_with_it_keeps_batch_norms_names_and_gets_a_clear_error():
    cfg = dict(type='ResNet_CIFAR', depth=18, base_channels=16, stem_channels=16)
    split = MODELS.build(dict(cfg, norm_cfg=dict(type='SplitBN', group_size=4)))
    plain = MODELS.build(cfg)
    # the same keys and shapes: a checkpoint loads into the plain BN network (mmdet's)
    plain.load_state_dict(split.state_dict())
    assert sum(type(m).__name__ == 'SplitBatchNorm2d' for m in split.modules()) == 20
    split.train()
    assert split(torch.randn(8, 3, 32, 32))[0].shape == (8, 128, 4, 4)
    with pytest.raises(ValueError, match='6 samples.*group_size=4'):
        split(torch.randn(6, 3, 32, 32))
    with pytest.raises(ValueError, match='group_size must be at least 2'):
        build_norm_layer(dict(type='SplitBN', group_size=1), 4)


@pytest.mark.parametrize('inner_params', [None, ['neck']], ids=['whole', 'heads-only'])
def test_gessl_around_moco_with_it_trains(inner_params):
    """MoCo with SplitBN inside GeSSL (the whole network through torch.func, or heads
    only): a step runs, the weights and the split norms' statistics move, all finite."""
    set_random_seed(0)
    base = copy.deepcopy(BASES['MoCo'])
    base['backbone'] = dict(TINY_RESNET, norm_cfg=dict(type='SplitBN', group_size=2))
    model = build_gessl(base)  # tasks of 4 images: 2 groups of 2
    wrapper = build_wrapper(model, **({'inner_params': inner_params} if inner_params else {}))
    norm = model.base.backbone.bn1
    assert type(norm).__name__ == 'SplitBatchNorm2d'
    before, stats = online_state(model), norm.running_mean.clone()
    log = model.train_step(make_batch(seed=0), wrapper)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    after = online_state(model)
    assert sum(not torch.equal(before[n], after[n]) for n in before) > len(before) // 2
    assert not torch.equal(stats, norm.running_mean)
