"""Batch norm over groups of a batch: MoCo's shuffled BN on one device."""
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module('SplitBN')
class SplitBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` whose training statistics come from groups of ``group_size`` samples.

    MoCo (He et al. 2020, Sec. 3.3) normalises each GPU's share of the batch on its own and
    shuffles the keys across GPUs, so that a query and its positive key never share batch
    statistics; with one statistic for the whole batch the network "cheats" the pretext
    task through them and learns poor features (on one device, mmpretrain's key shuffle
    changes nothing). With this layer, one device normalises groups as GPUs of
    ``group_size`` samples would, and the shuffle separates a query from its key again.
    Samples ``i``, ``i + k``, ``i + 2k``, ... (``k`` = batch / ``group_size``) form a group.
    A batch of at most ``group_size`` samples, and evaluation, use plain batch norm; the
    parameters and buffers are ``BatchNorm2d``'s, so checkpoints load into either.

    Args:
        num_features: channels.
        group_size: samples per group, e.g. MoCo's 32 per GPU.
        **kwargs: ``BatchNorm2d``'s (``eps``, ``momentum``, ...).
    """

    def __init__(self, num_features: int, group_size: int = 32, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        if group_size < 2:
            raise ValueError(f'SplitBN: group_size must be at least 2, got {group_size}')
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        if not self.training or batch <= self.group_size:
            return super().forward(x)
        if batch % self.group_size:
            raise ValueError(f'SplitBN: a batch of {batch} samples does not split into '
                             f'groups of group_size={self.group_size}')
        groups, channels = batch // self.group_size, x.shape[1]
        momentum = self.momentum
        track = self.track_running_stats and self.running_mean is not None
        if track:
            self.num_batches_tracked.add_(1)
            if momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        # (N, C, ...) -> (N / k, k * C, ...): channel j * C + c holds samples j, j + k, ...
        running_mean = self.running_mean.repeat(groups) if track else None
        running_var = self.running_var.repeat(groups) if track else None
        out = F.batch_norm(
            x.reshape(-1, groups * channels, *x.shape[2:]), running_mean, running_var,
            self.weight.repeat(groups) if self.affine else None,
            self.bias.repeat(groups) if self.affine else None, True, momentum or 0.0,
            self.eps)
        if track:
            with torch.no_grad():
                self.running_mean.copy_(running_mean.view(groups, channels).mean(0))
                self.running_var.copy_(running_var.view(groups, channels).mean(0))
        return out.reshape_as(x)
