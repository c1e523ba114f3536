from .features import extract_features
from .knn import knn_accuracy, knn_predict
from .linear_probe import linear_probe_accuracy

__all__ = [
    'extract_features', 'knn_accuracy', 'knn_predict', 'linear_probe_accuracy'
]
