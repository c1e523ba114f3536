"""The distributed model wrapper for GeSSL."""
from typing import Dict, Union

from mmengine.dist import broadcast
from mmpretrain.registry import MODEL_WRAPPERS
from torch import Tensor, nn


@MODEL_WRAPPERS.register_module()
class GeSSLDistributedWrapper(nn.Module):
    """Data-parallel GeSSL: each rank learns its own tasks, hypergradients meet once.

    ``DistributedDataParallel`` does not fit a bi-level step: its ``train_step`` never calls
    the model's own, and GeSSL takes every gradient with ``torch.autograd.grad``, which DDP's
    hooks never see. This wrapper only broadcasts rank 0's parameters and buffers at
    construction and delegates the steps; :class:`BiLevelOptimWrapper` averages the summed
    hypergradient across ranks exactly once per outer update, right before the step, so
    the ranks' parameters stay identical. Momentum encoders and queues stay identical too:
    they change only in the live pass, from identical parameters and gathered keys.
    GeSSL configs select it with ``model_wrapper_cfg=dict(type='GeSSLDistributedWrapper')``.

    Args:
        module: the GeSSL model.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        for tensor in list(module.parameters()) + list(module.buffers()):
            broadcast(tensor.data, src=0)

    def train_step(self, data: Union[dict, tuple, list], optim_wrapper) -> Dict[str, Tensor]:
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
