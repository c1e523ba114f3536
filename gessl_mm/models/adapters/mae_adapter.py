"""MAE: a masked image model that takes one batch of images."""
from typing import Union

import torch
from torch import Tensor

from ..data_preprocessors import SSLTask
from .base_adapter import SSL_ADAPTERS, SSLAdapter


@SSL_ADAPTERS.register_module('MAE')
class MAEAdapter(SSLAdapter):
    """MAE's loss takes the task's views as one batch; its backbone embeds with
    ``mask=None`` (all patches) for the task head."""

    def loss_inputs(self, task: SSLTask) -> Union[Tensor, list]:
        return torch.cat(task.support)
