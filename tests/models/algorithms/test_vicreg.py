"""VICReg (this package's): a plain mmpretrain training step gives the VICReg loss."""
import copy

import pytest
import torch
from helpers import PREPROCESSOR, VICREG_CFG, make_batch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS

from gessl_mm.models import VICRegLoss


def _build_plain(cfg):
    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA reads it
    model = MODELS.build(copy.deepcopy(dict(cfg, data_preprocessor=dict(
        type='SelfSupDataPreprocessor', **PREPROCESSOR))))
    model.init_weights()
    return model


def _params(module):
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


def _changed(before, after):
    return [n for n in before if not torch.equal(before[n], after[n])]


@pytest.mark.integration
def test_vicreg_plain_train_step():
    model = _build_plain(VICREG_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    batch = make_batch(batch_size=6)
    views = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    with torch.no_grad():
        z1, z2 = (model.neck(model.backbone(v))[0] for v in views)
        expected = VICRegLoss()(z1, z2)
    before = _params(model)

    log = model.train_step(batch, wrapper)

    torch.testing.assert_close(log['loss'], expected)
    changed = _changed(before, _params(model))
    assert len(changed) == len(before), set(before) - set(changed)
