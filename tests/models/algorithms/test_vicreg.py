"""VICReg (this package's): a plain mmpretrain training step gives the VICReg loss."""
import copy

import pytest
import torch
from helpers import VICREG_CFG, build_plain, changed_names, make_batch, trainable_state
from mmengine.optim import build_optim_wrapper

from gessl_mm.models import VICRegLoss


@pytest.mark.integration
def test_vicreg_plain_train_step():
    model = build_plain(VICREG_CFG)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    batch = make_batch(batch_size=6)
    views = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    with torch.no_grad():
        z1, z2 = (model.neck(model.backbone(v))[0] for v in views)
        expected = VICRegLoss()(z1, z2)
    before = trainable_state(model)

    log = model.train_step(batch, wrapper)

    torch.testing.assert_close(log['loss'], expected)
    changed = changed_names(before, trainable_state(model))
    assert len(changed) == len(before), set(before) - set(changed)
