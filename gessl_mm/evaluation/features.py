"""Frozen features of a model over a dataset."""
from typing import Tuple

import torch
from mmengine.dataset import default_collate
from mmengine.model import BaseModel
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from gessl_mm.models.utils import pool_features


@torch.no_grad()
def extract_features(model: BaseModel, dataset: Dataset, batch_size: int = 256
                     ) -> Tuple[Tensor, Tensor]:
    """Pooled backbone features and labels of every item of ``dataset``.

    The dataset's pipeline must end with ``PackInputs``; images are normalised by the
    model's own data preprocessor, features come from ``model.extract_feat`` in eval mode.
    The model's train/eval mode is restored afterwards.

    Returns:
        ``(features (N, D) float32 on CPU, labels (N,) int64)``.
    """
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
