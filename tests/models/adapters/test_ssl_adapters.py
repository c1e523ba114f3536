"""Each base type has its adapter (views, embedding, side effects); a new mmpretrain method
is supported by registering one."""
import copy

import pytest
import torch
from helpers import BASES, DINO_CFG, build_gessl, build_wrapper, make_batch
from mmengine.runner import set_random_seed
from mmpretrain.models import SimCLR
from mmpretrain.registry import MODELS

from gessl_mm.models import SSLTask
from gessl_mm.models.adapters import (
    SSL_ADAPTERS,
    DINOAdapter,
    MAEAdapter,
    QueueAdapter,
    SSLAdapter,
    SwAVAdapter,
    build_adapter,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize('base,adapter,frozen,may_record', [
    ('SimCLR', SSLAdapter, [], True),
    ('BYOL', SSLAdapter, ['target_net'], True),
    ('MoCoV3', SSLAdapter, ['momentum_encoder'], True),
    ('MoCo', QueueAdapter, ['encoder_k'], False),
    ('SwAV', SwAVAdapter, [], False),
    ('MAE', MAEAdapter, [], True),
    (DINO_CFG, DINOAdapter, ['target_net'], True),
])
def test_each_base_gets_its_adapter(base, adapter, frozen, may_record):
    model = build_gessl(base)
    assert type(model.adapter) is adapter
    assert list(model.adapter.frozen_modules) == frozen
    assert model.adapter.live_pass_may_record is may_record
    # MAE embeds with mask=None, so its loss's backbone call cannot serve the task head
    assert model.adapter.loss_shares_backbone_call is (base != 'MAE')


def test_muting_keeps_what_was_there():
    """A method muted and unmuted (nested, with live passes between) is what it was, a
    wrapper someone installed on the instance included."""
    model = build_gessl(DINO_CFG)
    loss = model.base.head.loss_module
    calls = []
    loss.update_center = lambda teacher: calls.append(teacher)
    wrapper = loss.update_center
    with model.adapter.muted():
        with model.adapter.muted():
            loss.update_center(None)
            with model.adapter.live():
                loss.update_center(1)
            loss.update_center(None)
    assert calls == [1] and loss.update_center is wrapper


def test_views_take_the_form_of_the_base_loss():
    views = [torch.zeros(4, 3, 32, 32), torch.ones(4, 3, 32, 32)]
    task = SSLTask(views, views)
    assert build_gessl('SimCLR').adapter.loss_inputs(task) is views
    assert build_gessl('MAE').adapter.loss_inputs(task).shape == (8, 3, 32, 32)


def test_muted_passes_leave_the_base_unchanged_and_live_ones_do_not():
    model = build_gessl('MoCo')
    base = model.base
    data = model.data_preprocessor(make_batch(), True)
    before = copy.deepcopy(base.state_dict())
    with model.adapter.muted():
        base.loss(data['inputs'], None)
        assert all(torch.equal(v, base.state_dict()[k]) for k, v in before.items())
        with model.adapter.live():
            base.loss(data['inputs'], None)
    changed = {k for k, v in before.items() if not torch.equal(v, base.state_dict()[k])}
    assert 'queue_ptr' in changed and any(k.startswith('encoder_k.') for k in changed)
    assert any(k.endswith('running_mean') for k in changed)


def test_a_new_base_gets_the_adapter_of_its_nearest_registered_class():

    @MODELS.register_module(force=True)
    class SimCLRWithExtraView(SimCLR):
        pass

    @SSL_ADAPTERS.register_module('SimCLRWithExtraView', force=True)
    class ExtraViewAdapter(SSLAdapter):
        calls = 0

        def loss_inputs(self, task):
            type(self).calls += 1
            return task.support

    try:
        cfg = dict(BASES['SimCLR'], type='SimCLRWithExtraView')
        assert type(build_adapter(MODELS.build(cfg))) is ExtraViewAdapter
        SSL_ADAPTERS.module_dict.pop('SimCLRWithExtraView')
        assert type(build_adapter(MODELS.build(cfg))) is SSLAdapter  # SimCLR's (default)
        SSL_ADAPTERS.register_module('SimCLRWithExtraView', module=ExtraViewAdapter)
        set_random_seed(0)
        model = build_gessl('SimCLR', task_size=4)
        model.base = MODELS.build(cfg)
        model.adapter = build_adapter(model.base)
        model.train_step(make_batch(), build_wrapper(model))
        assert ExtraViewAdapter.calls == 3  # each task's inner loss, the update's live pass
    finally:
        SSL_ADAPTERS.module_dict.pop('SimCLRWithExtraView', None)
        MODELS.module_dict.pop('SimCLRWithExtraView', None)
