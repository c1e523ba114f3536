"""The distributed model wrapper for GeSSL."""
from typing import Dict, Union

from mmengine.dist import broadcast
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
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
    they change only in the live pass, from identical parameters and gathered keys. An
    update that spans iterations has its partial sum averaged at the end of each of them,
    so that a checkpoint (written by rank 0) holds what every rank holds.
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
        log_vars = self.module.train_step(data, optim_wrapper)
        # An update that goes on into the next iteration: every rank keeps the same partial
        # hypergradient, so that rank 0's checkpoint resumes every rank (see the method).
        optim_wrapper.synchronize_partial_update()
        return log_vars

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


# mmengine's Runner looks ``model_wrapper_cfg.type`` up in mmengine's root registry, without
# a scope (``Runner.wrap_model``), where a child registry's entries are invisible: registered
# there too, GeSSL configs run under mmengine's, mmpretrain's and mmdet's tools with or
# without a ``default_scope``.
MMENGINE_MODEL_WRAPPERS.register_module(module=GeSSLDistributedWrapper)
