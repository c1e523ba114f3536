"""DINOLoss against hand computations: the loss and its center."""
import math

import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch

from gessl_mm.models import DINOLoss

pytestmark = pytest.mark.unit


def _softmax(row, temp):
    exps = [math.exp(x / temp) for x in row]
    return [e / sum(exps) for e in exps]


def test_dino_loss_matches_hand_computation():
    student = [[[0.2, -0.1, 0.4], [1.0, 0.0, -0.5]],   # view 0 (global)
               [[-0.3, 0.8, 0.1], [0.1, 0.1, 0.3]],    # view 1 (global)
               [[0.5, 0.5, -1.0], [-0.2, 0.6, 0.0]]]   # view 2 (local)
    teacher = [[[0.3, 0.0, 0.2], [0.9, -0.1, -0.4]],
               [[-0.2, 0.7, 0.2], [0.0, 0.2, 0.4]]]
    center = [0.05, -0.1, 0.2]
    t_temp, s_temp = 0.04, 0.1
    loss_fn = DINOLoss(out_channels=3, teacher_temp=t_temp, student_temp=s_temp)
    loss_fn.center.copy_(torch.tensor([center]))

    total, terms = 0.0, 0
    for g in range(2):
        for v in range(3):
            if v == g:
                continue
            per_image = []
            for n in range(2):
                q = _softmax([t - c for t, c in zip(teacher[g][n], center)], t_temp)
                p = _softmax(student[v][n], s_temp)
                per_image.append(-sum(qi * math.log(pi) for qi, pi in zip(q, p)))
            total += sum(per_image) / 2
            terms += 1
    expected = total / terms
    assert terms == 4  # (g, v) in {(0, 1), (0, 2), (1, 0), (1, 2)}

    loss = loss_fn(torch.tensor(student), torch.tensor(teacher), update_center=False)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss_fn.center[0].tolist() == pytest.approx(center)  # not asked to move


def test_dino_center_follows_the_ema_formula():
    loss_fn = DINOLoss(out_channels=2, center_momentum=0.9)
    teacher1 = torch.tensor([[[1.0, 2.0], [3.0, -2.0]], [[0.0, 1.0], [4.0, 3.0]]])
    teacher2 = torch.tensor([[[-1.0, 0.5], [2.0, 2.0]], [[1.0, -1.0], [0.0, 0.5]]])
    loss_fn(torch.randn(3, 2, 2), teacher1)
    mean1 = [(1 + 3 + 0 + 4) / 4, (2 - 2 + 1 + 3) / 4]
    expected = [0.9 * 0 + 0.1 * m for m in mean1]
    assert loss_fn.center[0].tolist() == pytest.approx(expected)
    loss_fn(torch.randn(2, 2, 2), teacher2)
    mean2 = [(-1 + 2 + 1 + 0) / 4, (0.5 + 2 - 1 + 0.5) / 4]
    expected = [0.9 * e + 0.1 * m for e, m in zip(expected, mean2)]
    assert loss_fn.center[0].tolist() == pytest.approx(expected)
    assert 'center' in dict(loss_fn.named_buffers())  # saved in checkpoints


def test_dino_loss_rejects_mismatched_views():
    with pytest.raises(ValueError, match='1 <= G <= V'):
        DINOLoss(out_channels=3)(torch.randn(2, 4, 3), torch.randn(3, 4, 3))
