"""Builds GeSSL's self-supervised tasks from a batch of augmented views (paper §3.2)."""
from dataclasses import dataclass
from typing import List, Optional, Union

import torch
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS
from torch import Tensor


@dataclass
class SSLTask:
    """One B-way classification task: the views of image ``i`` carry pseudo-label ``i``.

    Attributes:
        support: ``num_support_views`` tensors of shape (B, C, H, W), for the inner loop.
        query: the views the outer loss classifies; the support views themselves when the
            batch has only two views.
        data_samples: the task's data samples, passed on to the base algorithm.
    """
    support: List[Tensor]
    query: List[Tensor]
    data_samples: Optional[list] = None

    @property
    def num_classes(self) -> int:
        return self.support[0].shape[0]

    @property
    def query_is_support(self) -> bool:
        return self.query is self.support


@MODELS.register_module()
class TaskDataPreprocessor(SelfSupDataPreprocessor):
    """mmpretrain's ``SelfSupDataPreprocessor`` that also splits a batch into SSL tasks.

    A batch of N images with V views (mmpretrain's ``MultiView`` pipeline, V >= 2) becomes
    N / ``task_size`` tasks of ``task_size`` images each. The first ``num_support_views``
    views feed the inner loop; the others feed the outer loss, or all views when V == 2.

    Args:
        task_size: images (classes) per task, B in the paper.
        num_support_views: views per image used by the inner loop (the base algorithm's own
            number of views, 2 for SimCLR, BYOL, MoCo, ...).
        **kwargs: arguments of ``SelfSupDataPreprocessor`` (mean, std, to_rgb, ...).
    """

    def __init__(self, task_size: int = 16, num_support_views: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        for key, value in (('task_size', task_size), ('num_support_views', num_support_views)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'model.data_preprocessor.{key} must be a positive int, '
                                 f'got {value!r}')
        self.task_size = task_size
        self.num_support_views = num_support_views

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if training:
            self.check_views(data['inputs'])
        self.check_finite(data['inputs'], data.get('data_samples'))
        return data

    def check_finite(self, views: Union[Tensor, List[Tensor]],
                     data_samples: Optional[list] = None) -> None:
        """Raise a ValueError naming the views and images that hold NaN or infinite values.

        One host sync per batch; the images are located only when the check fails.
        """
        views = [views] if isinstance(views, Tensor) else list(views)
        floats = {i: v for i, v in enumerate(views)
                  if isinstance(v, Tensor) and v.is_floating_point()}
        if not floats or bool(torch.stack([torch.isfinite(v).all()
                                           for v in floats.values()]).all()):
            return
        found = []
        for index, view in floats.items():
            bad = (~torch.isfinite(view)).flatten(1).any(1).nonzero().flatten().tolist()
            if not bad:
                continue
            where = f'view {index}: image(s) {bad[:8]}' + (' ...' if len(bad) > 8 else '')
            paths = [] if data_samples is None else \
                [data_samples[i].get('img_path') for i in bad[:8] if i < len(data_samples)]
            if any(paths):
                where += f' ({", ".join(str(p) for p in paths)})'
            found.append(where)
        raise ValueError(
            f'model.data_preprocessor: the input batch holds NaN or infinite pixel values '
            f'after normalisation ({"; ".join(found)}; image indices within the batch). '
            'Check the dataset and its pipeline for corrupt images or float transforms that '
            'divide by zero, and that model.data_preprocessor.std has no zeros; nothing was '
            'trained on this batch.')

    def check_views(self, views) -> None:
        """Raise a clear error if ``views`` cannot be split into tasks."""
        if isinstance(views, Tensor) or len(views) < 2:
            num = 1 if isinstance(views, Tensor) else len(views)
            raise ValueError(
                f'GeSSL needs at least 2 augmented views per image, got {num}: build the '
                "training pipeline with mmpretrain's dict(type='MultiView', num_views=2, "
                'transforms=[...])')
        batch_size = views[0].shape[0]
        if batch_size % self.task_size:
            raise ValueError(
                f'the batch size {batch_size} is not divisible by '
                f'model.data_preprocessor.task_size={self.task_size}: make '
                'train_dataloader.batch_size a multiple of it (and keep drop_last=True)')
        if len(views) > 2 and self.num_support_views >= len(views):
            raise ValueError(
                f'model.data_preprocessor.num_support_views={self.num_support_views} leaves no '
                f'query view among the {len(views)} views: it must be below {len(views)}')
        if len(views) == 2 and self.num_support_views > 2:
            raise ValueError(f'model.data_preprocessor.num_support_views='
                             f'{self.num_support_views} exceeds the 2 views of the batch')

    def split_tasks(self, views: List[Tensor], data_samples: Optional[list] = None
                    ) -> List[SSLTask]:
        """Split a preprocessed multi-view batch into tasks of ``task_size`` images."""
        self.check_views(views)
        tasks = []
        for start in range(0, views[0].shape[0], self.task_size):
            part = [v[start:start + self.task_size] for v in views]
            if len(part) == 2:
                support = part if self.num_support_views == 2 else part[:1]
                query = part
            else:
                support, query = part[:self.num_support_views], part[self.num_support_views:]
            samples = None if data_samples is None else data_samples[start:start +
                                                                     self.task_size]
            tasks.append(SSLTask(support, query, samples))
        return tasks
