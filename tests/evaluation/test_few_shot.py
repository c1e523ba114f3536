"""Few-shot episodes and their classifiers (gessl_mm.evaluation.few_shot)."""
import math

import numpy as np
import pytest
import torch
from synthetic_data import clusters

from gessl_mm.evaluation import (
    few_shot_evaluate,
    logistic_episode_accuracy,
    prototype_episode_accuracy,
    sample_episodes,
    sigma_measure,
)
from gessl_mm.evaluation.few_shot import episode_split

pytestmark = pytest.mark.unit


def shuffled(labels: torch.Tensor) -> torch.Tensor:
    """The same labels in random order: as many items per class, unrelated to features."""
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]


# --------------------------------------------------------------------- episodes
def test_sample_episodes_shapes_classes_and_disjointness():
    labels = np.repeat(np.arange(7), [20, 21, 22, 23, 24, 25, 26])
    support, query = sample_episodes(labels, way=5, shot=3, query=4, episodes=20, seed=3)
    assert support.shape == (20, 5, 3) and query.shape == (20, 5, 4)
    for s, q in zip(support, query):
        assert not set(s.ravel()) & set(q.ravel())  # support and query disjoint
        assert len(set(s.ravel()) | set(q.ravel())) == 5 * 7  # no repeated item
        classes = [labels[s[j, 0]] for j in range(5)]
        assert len(set(classes)) == 5  # 5 different classes
        for j, c in enumerate(classes):  # row j holds class c only
            assert (labels[s[j]] == c).all() and (labels[q[j]] == c).all()
    # reproducible by seed, different across seeds
    again = sample_episodes(labels, 5, 3, 4, 20, seed=3)
    other = sample_episodes(labels, 5, 3, 4, 20, seed=4)
    assert (again[0] == support).all() and (again[1] == query).all()
    assert not (other[0] == support).all()


def test_sample_episodes_errors():
    labels = torch.tensor([0] * 10 + [1] * 10 + [2] * 4)
    with pytest.raises(ValueError, match=r'way=4 exceeds the 3 classes'):
        sample_episodes(labels, way=4, shot=1, query=1, episodes=1)
    with pytest.raises(ValueError, match=r'shot \+ query = 5.*\{2: 4\}'):
        sample_episodes(labels, way=2, shot=1, query=4, episodes=1)
    for bad in (dict(way=0), dict(shot=0), dict(query=-1), dict(episodes=0)):
        kwargs = {**dict(way=2, shot=1, query=1, episodes=1), **bad}
        with pytest.raises(ValueError, match='positive integer'):
            sample_episodes(labels, **kwargs)
    sample_episodes(labels, way=3, shot=1, query=3, episodes=2)  # 4 items suffice


# ------------------------------------------------------------------ classifiers
def test_classifiers_on_separable_and_random_labels():
    features, labels = clusters()
    support_idx, query_idx = sample_episodes(labels, 5, 1, 10, 5, seed=0)
    for e in range(5):
        episode = episode_split(features, support_idx[e], query_idx[e])
        assert prototype_episode_accuracy(*episode) == 1.0
        assert logistic_episode_accuracy(*episode) == 1.0
    good = few_shot_evaluate(features, labels, 5, 1, 10, 30, seed=0)
    rand = few_shot_evaluate(features, shuffled(labels), 5, 1, 10, 30, seed=0)
    for name in ('prototype', 'logistic'):
        assert good[name]['accuracy'] > 0.98
        assert abs(rand[name]['accuracy'] - 1 / 5) < 0.07, rand[name]['accuracy']
        assert len(rand[name]['accuracies']) == 30
        assert all(0 <= a <= 1 for a in rand[name]['accuracies'])
    assert (good['way'], good['shot'], good['query'], good['episodes']) == (5, 1, 10, 30)


def test_confidence_interval_shrinks_with_episodes():
    features, labels = clusters(separation=0.3)  # hard: accuracies vary across episodes
    few = few_shot_evaluate(features, labels, 5, 1, 5, 8, classifiers=('prototype', ))
    many = few_shot_evaluate(features, labels, 5, 1, 5, 200, classifiers=('prototype', ))
    assert 'logistic' not in many
    assert 0 < many['prototype']['ci95'] < few['prototype']['ci95'] / 2
    accs = np.array(many['prototype']['accuracies'])
    assert math.isclose(many['prototype']['ci95'], 1.96 * accs.std() / math.sqrt(200))
    sig_few = sigma_measure(features, labels, 5, 1, 5, tasks=8)
    sig_many = sigma_measure(features, labels, 5, 1, 5, tasks=200)
    assert 0 < sig_many['ci95'] < sig_few['ci95'] / 2
    with pytest.raises(ValueError, match='unknown classifiers'):
        few_shot_evaluate(features, labels, 5, 1, 5, 2, classifiers=('svm', ))
