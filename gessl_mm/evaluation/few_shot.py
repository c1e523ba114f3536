"""N-way K-shot episodes on frozen features (the few-shot protocol of the paper's §6.5, F.3).

An episode draws ``way`` classes, then ``shot`` support and ``query`` query items of each,
without overlap. A frozen feature extractor is scored by classifiers fitted on the support
items only: the cosine nearest class mean (prototypes) and a logistic regression on
L2-normalised features. Results are the mean accuracy over episodes with a 95% confidence
interval, ``1.96 * std / sqrt(episodes)``, as in the paper's tables.
"""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

ArrayLike = Union[Tensor, np.ndarray, Sequence[int]]


def _as_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def sample_episodes(labels: ArrayLike, way: int, shot: int, query: int, episodes: int,
                    seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of ``episodes`` random N-way K-shot episodes.

    Args:
        labels: (M,) integer class labels of the item pool.
        way: classes per episode (N).
        shot: support items per class (K).
        query: query items per class.
        episodes: number of episodes.
        seed: seed of the episode sampler (same seed, same episodes).

    Returns:
        ``(support, query)`` int64 index arrays into ``labels`` of shapes
        ``(episodes, way, shot)`` and ``(episodes, way, query)``; ``[e, j]`` holds the items
        of the ``j``-th class of episode ``e`` (its episode label is ``j``). Support and query
        items of an episode are disjoint.

    Raises:
        ValueError: non-positive sizes, ``way`` above the number of classes, or a class with
            fewer than ``shot + query`` items.
    """
    for name, value in dict(way=way, shot=shot, query=query, episodes=episodes).items():
        if int(value) != value or value < 1:
            raise ValueError(f'{name} must be a positive integer, got {value!r}')
    labels = _as_numpy(labels).reshape(-1)
    classes, counts = np.unique(labels, return_counts=True)
    if way > len(classes):
        raise ValueError(f'way={way} exceeds the {len(classes)} classes of the labelled data')
    small = {int(c): int(n) for c, n in zip(classes, counts) if n < shot + query}
    if small:
        raise ValueError(
            f'every class needs at least shot + query = {shot + query} items, but these '
            f'classes have fewer ({{class: items}}): {small}; lower --shot/--query')
    members = [np.flatnonzero(labels == c) for c in classes]
    rng = np.random.default_rng(seed)
    support = np.empty((episodes, way, shot), dtype=np.int64)
    queries = np.empty((episodes, way, query), dtype=np.int64)
    for e in range(episodes):
        for j, c in enumerate(rng.choice(len(classes), size=way, replace=False)):
            chosen = rng.choice(members[c], size=shot + query, replace=False)
            support[e, j], queries[e, j] = chosen[:shot], chosen[shot:]
    return support, queries


def episode_split(features: Tensor, support_idx: np.ndarray, query_idx: np.ndarray
                  ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Features and episode labels (0..way-1) of one episode from :func:`sample_episodes`.

    Returns:
        ``(support, support_labels, query, query_labels)``.
    """
    way = support_idx.shape[0]
    support = features[torch.from_numpy(support_idx.reshape(-1))]
    query = features[torch.from_numpy(query_idx.reshape(-1))]
    support_labels = torch.arange(way).repeat_interleave(support_idx.shape[1])
    query_labels = torch.arange(way).repeat_interleave(query_idx.shape[1])
    return support, support_labels, query, query_labels


def prototype_logits(support: Tensor, support_labels: Tensor, query: Tensor,
                     temperature: float = 1.0) -> Tensor:
    """Cosine similarities of ``query`` to the class prototypes, divided by ``temperature``.

    A prototype is the normalised mean of the class's L2-normalised support features (as in
    :class:`~gessl_mm.models.task_heads.PrototypeTaskHead`). Column ``j`` is class ``j`` of
    ``support_labels`` in 0..C-1.

    Returns:
        (Q, C) logits.
    """
    num_classes = int(support_labels.max()) + 1
    support = F.normalize(support.float(), dim=1)
    sums = torch.zeros(num_classes, support.shape[1], dtype=support.dtype)
    sums.index_add_(0, support_labels.long(), support)
    return F.normalize(query.float(), dim=1) @ F.normalize(sums, dim=1).T / temperature


def prototype_episode_accuracy(support: Tensor, support_labels: Tensor, query: Tensor,
                               query_labels: Tensor) -> float:
    """Accuracy of the cosine nearest class mean fitted on the support set.

    Labels are episode labels in 0..way-1.
    """
    pred = prototype_logits(support, support_labels, query).argmax(1)
    return (pred == query_labels).float().mean().item()


def fit_logistic(features: Tensor, labels: Tensor, c: float = 1.0, max_iter: int = 1000):
    """A scikit-learn ``LogisticRegression`` fitted on L2-normalised ``features``.

    The solver is ``newton-cg``: the same (multinomial, L2-regularised) optimum as the default
    ``lbfgs``, found about 10x faster on episode-sized problems.
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=max_iter, solver='newton-cg')
    clf.fit(F.normalize(features.float(), dim=1).numpy(), _as_numpy(labels))
    return clf


def logistic_episode_accuracy(support: Tensor, support_labels: Tensor, query: Tensor,
                              query_labels: Tensor, c: float = 1.0, max_iter: int = 1000
                              ) -> float:
    """Accuracy of a logistic regression fitted on the L2-normalised support features.

    Labels are episode labels in 0..way-1; ``c`` is scikit-learn's inverse regularisation.
    """
    clf = fit_logistic(support, support_labels, c, max_iter)
    pred = clf.predict(F.normalize(query.float(), dim=1).numpy())
    return float((pred == _as_numpy(query_labels)).mean())


def mean_ci95(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and 95% confidence half-width ``1.96 * std / sqrt(n)`` (population std)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(1.96 * values.std() / np.sqrt(len(values)))


CLASSIFIERS: Dict[str, Callable[..., float]] = dict(
    prototype=prototype_episode_accuracy, logistic=logistic_episode_accuracy)


def few_shot_evaluate(features: Tensor, labels: ArrayLike, way: int, shot: int,
                      query: int = 15, episodes: int = 600, seed: int = 0,
                      classifiers: Sequence[str] = ('prototype', 'logistic'),
                      progress: Optional[Callable[[], None]] = None) -> dict:
    """Few-shot accuracy of frozen ``features`` over random N-way K-shot episodes.

    Args:
        features: (M, D) frozen features.
        labels: (M,) class labels.
        way, shot, query, episodes, seed: see :func:`sample_episodes`.
        classifiers: any of ``'prototype'`` (:func:`prototype_episode_accuracy`) and
            ``'logistic'`` (:func:`logistic_episode_accuracy`).
        progress: called once after each episode (e.g. ``ProgressBar.update``).

    Returns:
        ``dict(way=, shot=, query=, episodes=, seed=, <classifier>=dict(accuracy=mean,
        ci95=half-width, accuracies=[per episode]))``; accuracies are fractions in [0, 1].
    """
    unknown = set(classifiers) - set(CLASSIFIERS)
    if unknown:
        raise ValueError(f'unknown classifiers {sorted(unknown)}; choose from '
                         f'{sorted(CLASSIFIERS)}')
    features = torch.as_tensor(features).float().cpu()
    labels = _as_numpy(labels)
    if len(features) != len(labels):
        raise ValueError(f'{len(features)} features but {len(labels)} labels')
    support_idx, query_idx = sample_episodes(labels, way, shot, query, episodes, seed)
    accs = {name: [] for name in classifiers}
    for e in range(episodes):
        episode = episode_split(features, support_idx[e], query_idx[e])
        for name in classifiers:
            accs[name].append(CLASSIFIERS[name](*episode))
        if progress is not None:
            progress()
    result = dict(way=way, shot=shot, query=query, episodes=episodes, seed=seed)
    for name, values in accs.items():
        mean, ci95 = mean_ci95(values)
        result[name] = dict(accuracy=mean, ci95=ci95, accuracies=values)
    return result
