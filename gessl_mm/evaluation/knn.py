"""k-nearest-neighbour accuracy on frozen features (cosine similarity, majority vote)."""
import torch
import torch.nn.functional as F
from torch import Tensor


def knn_predict(bank: Tensor, bank_labels: Tensor, queries: Tensor, k: int = 5) -> Tensor:
    """Labels of ``queries`` by a majority vote of their ``k`` most cosine-similar bank items.

    Ties go to the class of the nearer neighbours (votes are weighted by 1 + 1e-3 * sim).
    """
    if k < 1 or k > len(bank):
        raise ValueError(f'k must be in [1, {len(bank)}], got {k}')
    sims = F.normalize(queries, dim=1) @ F.normalize(bank, dim=1).T
    top_sims, top_idx = sims.topk(k, dim=1)
    num_classes = int(bank_labels.max()) + 1
    votes = torch.zeros(len(queries), num_classes, dtype=sims.dtype)
    votes.scatter_add_(1, bank_labels[top_idx], 1 + 1e-3 * top_sims)
    return votes.argmax(1)


def knn_accuracy(bank: Tensor, bank_labels: Tensor, queries: Tensor, query_labels: Tensor,
                 k: int = 5) -> float:
    """Top-1 accuracy of :func:`knn_predict`."""
    return (knn_predict(bank, bank_labels, queries, k) == query_labels).float().mean().item()
