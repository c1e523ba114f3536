"""Second-level losses between the target's and the adapted model's class distributions.

Each takes the target's logits (detached) and the adapted model's logits, both (M, B) over a
task's B classes, and returns the mean over the M query views. KL is the paper's choice; the
others are its G.3 ablation.
"""
import functools
from typing import Callable, Union

import torch
import torch.nn.functional as F
from mmengine.registry import Registry
from torch import Tensor

#: ``model.outer_loss``: a name, or ``dict(type=NAME, **options)`` -> the loss function
OUTER_LOSSES = Registry('outer loss', locations=['gessl_mm.models.losses'])
OuterLoss = Callable[[Tensor, Tensor], Tensor]


@OUTER_LOSSES.register_module('kl')
def kl_loss(target_logits: Tensor, logits: Tensor) -> Tensor:
    """KL(pi_target || pi_adapted)."""
    return F.kl_div(F.log_softmax(logits, -1), F.log_softmax(target_logits, -1),
                    reduction='batchmean', log_target=True)


@OUTER_LOSSES.register_module('mse')
def mse_loss(target_logits: Tensor, logits: Tensor) -> Tensor:
    """Squared difference of the two distributions, summed over classes."""
    return (F.softmax(logits, -1) - F.softmax(target_logits, -1)).pow(2).sum(-1).mean()


@OUTER_LOSSES.register_module('ce')
def ce_loss(target_logits: Tensor, logits: Tensor) -> Tensor:
    """Cross-entropy against the target's most likely class.

    Against the soft target, cross-entropy would equal KL plus a constant; the hard target
    is the variant that differs.
    """
    return F.cross_entropy(logits, target_logits.argmax(-1))


@OUTER_LOSSES.register_module('wasserstein')
def wasserstein_loss(target_logits: Tensor, logits: Tensor, epsilon: float = 0.05,
                     iters: int = 50) -> Tensor:
    """Entropic Wasserstein distance (Sinkhorn, log domain) between the distributions.

    The ground cost between classes i and j is ``1 - cos`` of the target's class score
    profiles over the query views, so moving mass between classes that the target model
    confuses is cheap. With a 0/1 cost it would reduce to total variation.
    """
    p = F.softmax(target_logits, -1)
    q = F.softmax(logits, -1)
    profiles = F.normalize(p.detach().T, dim=-1)  # (B, M)
    cost = (1 - profiles @ profiles.T).clamp_min(0)  # (B, B)
    log_k = -cost / epsilon
    log_p, log_q = p.clamp_min(1e-12).log(), q.clamp_min(1e-12).log()
    f = torch.zeros_like(p)
    g = torch.zeros_like(q)
    for _ in range(iters):
        f = log_p - torch.logsumexp(log_k.unsqueeze(0) + g.unsqueeze(1), dim=-1)
        g = log_q - torch.logsumexp(log_k.unsqueeze(0) + f.unsqueeze(2), dim=-2)
    plan = torch.exp(f.unsqueeze(2) + log_k.unsqueeze(0) + g.unsqueeze(1))
    return (plan * cost).sum((1, 2)).mean()


def build_outer_loss(cfg: Union[str, dict]) -> OuterLoss:
    """The outer loss of ``model.outer_loss`` (a name, or a dict with options)."""
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = cfg.pop('type', None)
    if not isinstance(name, str) or name not in OUTER_LOSSES:
        raise ValueError(f'model.outer_loss={name!r} is not an outer loss; choose one of '
                         f'{sorted(OUTER_LOSSES.module_dict)}')
    loss = OUTER_LOSSES.get(name)
    return functools.partial(loss, **cfg) if cfg else loss
