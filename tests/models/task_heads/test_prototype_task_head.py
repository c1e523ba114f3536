"""PrototypeTaskHead: the leave-one-out prototypes of a task."""
import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch

from gessl_mm.models import PrototypeTaskHead

pytestmark = pytest.mark.unit


def test_prototype_head_leaves_the_query_out_of_its_own_prototype():
    head = PrototypeTaskHead(temperature=0.1)
    emb = torch.randn(2, 5, 8)
    logits = head.logits(emb, emb, {}, query_is_support=True).view(2, 5, 5)
    # the own-class logit of view 0 is its cosine with view 1 (the other view)
    cos = torch.nn.functional.cosine_similarity(emb[0], emb[1], dim=-1)
    torch.testing.assert_close(logits[0].diagonal(), cos / 0.1)
    # well separated classes are classified right
    centers = torch.eye(5, 8) * 10
    views = centers + 0.01 * torch.randn(2, 5, 8)
    pred = head.logits(views, views, {}, True).argmax(-1)
    assert torch.equal(pred, torch.arange(5).repeat(2))
