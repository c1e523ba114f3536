"""DINONeck: prototype scores are cosines (times a learned gain)."""
import pytest
import torch
from helpers import FEAT
from mmpretrain.registry import MODELS

pytestmark = pytest.mark.unit


PROTOTYPES = 32
# DINONeck's default init (std 0.02) is made for 2048-wide layers; on 32-wide layers the
# projection before the L2 norm is ~1e-3 and the first SGD step collapses it.
DINO_NECK = dict(type='DINONeck', in_channels=FEAT, out_channels=PROTOTYPES, hid_channels=32,
                 bottleneck_channels=16, init_cfg=dict(type='Kaiming', layer='Linear'))


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
