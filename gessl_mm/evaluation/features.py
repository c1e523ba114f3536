"""Frozen features of a model over a dataset."""
from typing import Tuple

import torch
from mmengine.dataset import default_collate
from mmengine.dist import all_gather, get_dist_info
from mmengine.model import BaseModel
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from ..utils.pooling import pool_features


@torch.no_grad()
def extract_features(model: BaseModel, dataset: Dataset, batch_size: int = 256
                     ) -> Tuple[Tensor, Tensor]:
    """Pooled backbone features and labels of every item of ``dataset``.

    The dataset's pipeline must end with ``PackInputs``; images are normalised by the
    model's own data preprocessor, features come from ``model.extract_feat`` in eval mode.
    The model's train/eval mode is restored afterwards. Under torch.distributed each rank
    encodes every ``world_size``-th item and every rank returns all of them, in order.

    Returns:
        ``(features (N, D) float32 on CPU, labels (N,) int64)``.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return _extract(model, dataset, batch_size)
    feats, labels = _extract(model, Subset(dataset, range(rank, len(dataset), world_size)),
                             batch_size)
    return _gather_strided(feats, len(dataset)), _gather_strided(labels, len(dataset))


def _extract(model: BaseModel, dataset: Dataset, batch_size: int) -> Tuple[Tensor, Tensor]:
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=default_collate)
    feats, labels = [], []
    try:
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            feats.append(pool_features(model.extract_feat(data['inputs'])).float().cpu())
            labels.append(torch.as_tensor([int(s.gt_label) for s in batch['data_samples']]))
    finally:
        model.train(was_training)
    return torch.cat(feats), torch.cat(labels)


def _gather_strided(part: Tensor, total: int) -> Tensor:
    """All ranks' ``part`` (rank r holding items r, r + W, ...) as one tensor in item order."""
    _, world_size = get_dist_info()
    rows = -(-total // world_size)
    padded = part.new_zeros((rows, *part.shape[1:]))
    padded[:len(part)] = part
    gathered = torch.stack(all_gather(padded), dim=1)  # (rows, W, ...): item = row * W + r
    return gathered.flatten(0, 1)[:total]
