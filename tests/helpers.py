"""Tiny models and batches shared by the tests (32x32 images, a few thousand weights)."""
import copy
import logging
from contextlib import contextmanager
from typing import Iterator, List

import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

TINY_RESNET = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                   out_indices=(3, ), norm_cfg=dict(type='BN'), zero_init_residual=False)
TINY_VIT_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
init_default_scope('mmpretrain')  # as a config's default_scope does under the Runner

FEAT = 64  # channels of TINY_RESNET's last stage
DIM = 16  # projection size


def _mlp(in_channels, out_channels=DIM, **kwargs):
    cfg = dict(type='NonLinearNeck', in_channels=in_channels, hid_channels=32,
               out_channels=out_channels, num_layers=2, with_avg_pool=True,
               norm_cfg=dict(type='BN1d'))
    cfg.update(kwargs)
    return cfg


def _predict_head():
    return dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
                predictor=_mlp(DIM, with_avg_pool=False, with_last_bn=False))


BASES = {
    'SimCLR': dict(type='SimCLR', backbone=TINY_RESNET, neck=_mlp(FEAT),
                   head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                             temperature=0.1)),
    'MoCo': dict(type='MoCo', queue_len=32, feat_dim=DIM, momentum=0.01, backbone=TINY_RESNET,
                 neck=dict(type='MoCoV2Neck', in_channels=FEAT, hid_channels=32,
                           out_channels=DIM, with_avg_pool=True),
                 head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                           temperature=0.2)),
    'BYOL': dict(type='BYOL', base_momentum=0.01, backbone=TINY_RESNET,
                 neck=_mlp(FEAT, with_last_bn=False), head=_predict_head()),
    'SimSiam': dict(type='SimSiam', backbone=TINY_RESNET, neck=_mlp(FEAT), head=_predict_head()),
    'BarlowTwins': dict(type='BarlowTwins', backbone=TINY_RESNET,
                        neck=_mlp(FEAT, out_channels=32, with_last_bn=False),
                        head=dict(type='LatentCrossCorrelationHead', in_channels=32,
                                  loss=dict(type='CrossCorrelationLoss'))),
    'SwAV': dict(type='SwAV', backbone=TINY_RESNET,
                 neck=dict(type='SwAVNeck', in_channels=FEAT, hid_channels=32,
                           out_channels=DIM, with_avg_pool=True),
                 head=dict(type='SwAVHead',
                           loss=dict(type='SwAVLoss', feat_dim=DIM, epsilon=0.05,
                                     temperature=0.1, num_crops=[2], num_prototypes=8))),
    'MoCoV3': dict(type='MoCoV3', base_momentum=0.01,
                   backbone=dict(type='MoCoV3ViT', arch=TINY_VIT_ARCH, img_size=32,
                                 patch_size=8, stop_grad_conv1=True),
                   neck=_mlp(32, with_avg_pool=False, with_last_bn=False),
                   head=dict(type='MoCoV3Head', temperature=0.2,
                             loss=dict(type='CrossEntropyLoss', loss_weight=0.4),
                             predictor=_mlp(DIM, with_avg_pool=False, with_last_bn=False))),
    'MAE': dict(type='MAE',
                backbone=dict(type='MAEViT', arch=TINY_VIT_ARCH, img_size=32, patch_size=8,
                              mask_ratio=0.75),
                neck=dict(type='MAEPretrainDecoder', num_patches=16, patch_size=8, in_chans=3,
                          embed_dim=32, decoder_embed_dim=16, decoder_depth=1,
                          decoder_num_heads=2),
                head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=8,
                          loss=dict(type='PixelReconstructionLoss', criterion='L2'))),
}

PREPROCESSOR = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def build_gessl(base='SimCLR', task_size=4, task_head=None, **kwargs):
    MessageHub.get_current_instance().update_info('max_iters', 100)
    cfg = dict(type='GeSSL', base=copy.deepcopy(BASES[base]),
               data_preprocessor=dict(task_size=task_size, **PREPROCESSOR), **kwargs)
    if task_head is not None:
        cfg['task_head'] = task_head
    elif base == 'MAE':
        cfg['task_head'] = dict(type='PrototypeTaskHead', feature='backbone')
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def build_wrapper(model, **kwargs):
    """The tests' wrapper. Clipped as configs/_base_/gessl.py is: at inner lr 0.05 the tiny
    models' first hypergradients reach norms of 1e4-1e5, and unclipped the next losses
    overflow or not depending on the CPU's float rounding (issue 13)."""
    cfg = dict(type='BiLevelOptimWrapper',
               optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
               inner_lr=0.05, inner_steps=1, target_steps=3, tasks_per_update=2,
               clip_grad=dict(max_norm=10))
    cfg.update(kwargs)
    return build_optim_wrapper(model, cfg)


def make_batch(batch_size=8, num_views=2, size=32, seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    views: List[torch.Tensor] = [
        torch.randint(0, 256, (batch_size, 3, size, size), generator=g, dtype=torch.uint8)
        for _ in range(num_views)
    ]
    return dict(inputs=views, data_samples=[DataSample() for _ in range(batch_size)])


def online_state(model):
    return {n: p.detach().clone() for n, p in model.base.named_parameters() if p.requires_grad}


@contextmanager
def captured_warnings() -> Iterator[List[logging.LogRecord]]:
    """The WARNING (and worse) records logged to mmengine's current logger in the block."""
    records: List[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
