"""The Conv4 backbone: output shapes, frozen stages and norm_eval."""
import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch
from mmpretrain.registry import MODELS

pytestmark = pytest.mark.unit


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
