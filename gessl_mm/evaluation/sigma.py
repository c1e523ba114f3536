"""The sigma-measurement of generality (the paper's Definition 4.2, Eq. 5; Appendix F.4).

Definition 4.2 sums, over unseen test tasks, the KL divergence between the class
distribution of the trained model and that of the task-specific optimal model:
``sigma = sum_i KL(pi_{f*_phi_i} || pi_{f*_theta})`` on task ``i`` (KL is taken from the
optimum to the trained model, as GeSSL's outer loss ``KL(pi_target || pi_adapted)``; lower is
better). The paper leaves the trained model's class distribution on a task and the optimum
open; F.4 sets the optimum to "the ground truth". This module operationalises it on frozen
features as follows.

Tasks:
    random N-way episodes of a labelled held-out set (:func:`sample_episodes`): ``shot``
    support and ``query`` query items per class, classes relabelled 0..N-1.
Trained model's distribution ``pi_theta``:
    the frozen features ``z`` of the query items against the task's class prototypes ``c_j``
    (normalised mean of the L2-normalised support features), ``pi_theta(j | x) =
    softmax_j(cos(z, c_j) / temperature)``: the parameter-free head GeSSL trains with
    (:class:`~gessl_mm.models.task_heads.PrototypeTaskHead`, temperature 0.1 in the configs).
    The temperature sets the sharpness and therefore the scale of sigma: compare models
    only at one temperature.
Task-specific optimum ``pi*`` (``optimum``):
    ``'onehot'`` (default): the ground truth, a model with 100% accuracy, so ``pi*(x)`` is
    one-hot on the true class and ``KL(pi* || pi_theta) = -log pi_theta(y | x)``.
    ``'fitted'`` (variant): the optimum approximated by a logistic regression fitted on the
    task's support *and* query features (L2-normalised, weak regularisation ``c``), whose
    predicted distribution on the query items is ``pi*``; the value is
    ``KL(pi_fitted || pi_theta)``. It measures the distance to what a linear model on these
    features can reach on the task, rather than to perfect labels.
Per-task value:
    the mean over the task's query items of ``KL(pi*(x) || pi_theta(x))`` (nats), so it does
    not grow with ``query``. ``sigma`` is Eq. 5's sum over tasks; ``mean`` and its 95%
    confidence half-width ``1.96 * std / sqrt(tasks)`` are comparable across task counts.
"""
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .few_shot import (
    ArrayLike,
    _as_numpy,
    episode_split,
    fit_logistic,
    mean_ci95,
    prototype_logits,
    sample_episodes,
)

OPTIMA = ('onehot', 'fitted')


def task_kl(support: Tensor, support_labels: Tensor, query: Tensor, query_labels: Tensor,
            temperature: float = 0.1, optimum: str = 'onehot', c: float = 100.0,
            max_iter: int = 1000) -> float:
    """Mean ``KL(pi* || pi_theta)`` over the query items of one task (see the module doc).

    Labels are episode labels in 0..way-1.
    """
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    log_pi = F.log_softmax(prototype_logits(support, support_labels, query, temperature),
                           dim=1).double()
    if optimum == 'onehot':
        kl = -log_pi.gather(1, query_labels.long().view(-1, 1)).squeeze(1)
    elif optimum == 'fitted':
        clf = fit_logistic(torch.cat([support, query]), torch.cat([support_labels,
                                                                   query_labels]), c, max_iter)
        log_star = torch.from_numpy(
            clf.predict_log_proba(F.normalize(query.float(), dim=1).numpy())).double()
        # predict_log_proba's columns follow clf.classes_, which are 0..way-1 here.
        kl = (log_star.exp() * (log_star - log_pi)).sum(1)
    else:
        raise ValueError(f'optimum must be one of {OPTIMA}, got {optimum!r}')
    return float(kl.clamp_min(0).mean())


def sigma_measure(features: Tensor, labels: ArrayLike, way: int = 5, shot: int = 5,
                  query: int = 15, tasks: int = 100, seed: int = 0, temperature: float = 0.1,
                  optimum: str = 'onehot', c: float = 100.0,
                  progress: Optional[Callable[[], None]] = None) -> dict:
    """The sigma-measurement of frozen ``features`` over random held-out N-way tasks.

    See the module docstring for the operationalisation of Definition 4.2.

    Args:
        features: (M, D) frozen features of a labelled held-out set.
        labels: (M,) its class labels.
        way, shot, query: task size (:func:`sample_episodes`).
        tasks: number of sampled tasks.
        seed: seed of the task sampler.
        temperature: temperature of the trained model's prototype softmax.
        optimum: ``'onehot'`` (ground truth) or ``'fitted'`` (logistic-regression variant).
        c: inverse regularisation of the ``'fitted'`` optimum.
        progress: called once after each task (e.g. ``ProgressBar.update``).

    Returns:
        ``dict(sigma=sum over tasks, mean=, ci95=, per_task=[...], way=, shot=, query=,
        tasks=, seed=, temperature=, optimum=)``; all KL values are >= 0 (nats).
    """
    if optimum not in OPTIMA:
        raise ValueError(f'optimum must be one of {OPTIMA}, got {optimum!r}')
    features = torch.as_tensor(features).float().cpu()
    labels = _as_numpy(labels)
    if len(features) != len(labels):
        raise ValueError(f'{len(features)} features but {len(labels)} labels')
    support_idx, query_idx = sample_episodes(labels, way, shot, query, tasks, seed)
    per_task = []
    for t in range(tasks):
        episode = episode_split(features, support_idx[t], query_idx[t])
        per_task.append(task_kl(*episode, temperature=temperature, optimum=optimum, c=c))
        if progress is not None:
            progress()
    mean, ci95 = mean_ci95(per_task)
    return dict(sigma=float(np.sum(per_task)), mean=mean, ci95=ci95, per_task=per_task,
                way=way, shot=shot, query=query, tasks=tasks, seed=seed,
                temperature=temperature, optimum=optimum)

