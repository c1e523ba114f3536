from .features import extract_features
from .few_shot import (
    few_shot_evaluate,
    logistic_episode_accuracy,
    prototype_episode_accuracy,
    sample_episodes,
)
from .knn import knn_accuracy, knn_predict
from .linear_probe import linear_probe_accuracy
from .sigma import sigma_measure

__all__ = [
    'extract_features', 'knn_accuracy', 'knn_predict', 'linear_probe_accuracy',
    'sample_episodes', 'prototype_episode_accuracy', 'logistic_episode_accuracy',
    'few_shot_evaluate', 'sigma_measure'
]
