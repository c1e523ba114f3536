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


def base_catalogue(backbone, vit_arch, img_size, feat, dim, hid, moco='MoCo'):
    """name -> config of every base, at one scale."""

    def mlp(in_channels, out_channels=dim, **kwargs):
        return dict(dict(type='NonLinearNeck', in_channels=in_channels, hid_channels=hid,
                         out_channels=out_channels, num_layers=2, with_avg_pool=True,
                         norm_cfg=dict(type='BN1d')), **kwargs)

    def predictor():
        return dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
                    predictor=mlp(dim, with_avg_pool=False, with_last_bn=False))

    contrastive = dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                       temperature=0.1)
    vit = dict(arch=vit_arch, img_size=img_size, patch_size=8)
    width = vit_arch['embed_dims']
    return {
        'SimCLR': dict(type='SimCLR', backbone=backbone, neck=mlp(feat), head=contrastive),
        'BYOL': dict(type='BYOL', base_momentum=0.01, backbone=backbone,
                     neck=mlp(feat, with_last_bn=False), head=predictor()),
        moco: dict(type='MoCo', queue_len=hid, feat_dim=dim, momentum=0.01, backbone=backbone,
                   neck=dict(type='MoCoV2Neck', in_channels=feat, hid_channels=hid,
                             out_channels=dim, with_avg_pool=True),
                   head=dict(contrastive, temperature=0.2)),
        'MoCoV3': dict(type='MoCoV3', base_momentum=0.01,
                       backbone=dict(type='MoCoV3ViT', stop_grad_conv1=True, **vit),
                       neck=mlp(width, with_avg_pool=False, with_last_bn=False),
                       head=dict(type='MoCoV3Head', temperature=0.2,
                                 loss=dict(type='CrossEntropyLoss', loss_weight=0.4),
                                 predictor=mlp(dim, with_avg_pool=False, with_last_bn=False))),
        'SimSiam': dict(type='SimSiam', backbone=backbone, neck=mlp(feat), head=predictor()),
        'BarlowTwins': dict(type='BarlowTwins', backbone=backbone,
                            neck=mlp(feat, out_channels=hid, with_last_bn=False),
                            head=dict(type='LatentCrossCorrelationHead', in_channels=hid,
                                      loss=dict(type='CrossCorrelationLoss'))),
        'SwAV': dict(type='SwAV', backbone=backbone,
                     neck=dict(type='SwAVNeck', in_channels=feat, hid_channels=hid,
                               out_channels=dim, with_avg_pool=True),
                     head=dict(type='SwAVHead',
                               loss=dict(type='SwAVLoss', feat_dim=dim, epsilon=0.05,
                                         temperature=0.1, num_crops=[2], num_prototypes=8))),
        'MAE': dict(type='MAE', backbone=dict(type='MAEViT', mask_ratio=0.75, **vit),
                    neck=dict(type='MAEPretrainDecoder', num_patches=(img_size // 8)**2,
                              patch_size=8, in_chans=3, embed_dim=width,
                              decoder_embed_dim=dim, decoder_depth=1, decoder_num_heads=2),
                    head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=8,
                              loss=dict(type='PixelReconstructionLoss', criterion='L2'))),
        'DINO': dict(type='DINO', base_momentum=0.01, backbone=backbone,
                     neck=dict(type='DINONeck', in_channels=feat, out_channels=hid,
                               hid_channels=hid, bottleneck_channels=dim,
                               init_cfg=dict(type='Kaiming', layer='Linear')),
                     head=dict(type='DINOHead', loss=dict(type='DINOLoss', out_channels=hid))),
        'VICReg': dict(type='VICReg', backbone=backbone,
                       neck=dict(type='NonLinearNeck', in_channels=feat, hid_channels=hid,
                                 out_channels=hid, num_layers=3, with_last_bn=False,
                                 with_avg_pool=True, norm_cfg=dict(type='BN1d')),
                       head=dict(type='VICRegHead', loss=dict(type='VICRegLoss'))),
    }


# 32x32 images with a narrow ResNet-18 (or a two-layer ViT); DINO and VICReg have their own
# tests (tests/models/algorithms/test_dino.py, test_vicreg.py; DINO_CFG, VICREG_CFG below).
BASES = {name: cfg for name, cfg in base_catalogue(TINY_RESNET, TINY_VIT_ARCH, 32, FEAT, DIM,
                                                   hid=32).items()
         if name not in ('DINO', 'VICReg')}
# 16x16 images with Conv4 (or a one-layer ViT): the robustness matrix and the step regression.
SIZE = 16  # Conv4 pools 16x16 down to 1x1
TINY_FEAT, TINY_DIM = 16, 8
TINY_CONV4 = dict(type='Conv4', hid_channels=8, out_channels=TINY_FEAT)
TINY_VIT = dict(embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32)
TINY_BASES = base_catalogue(TINY_CONV4, TINY_VIT, SIZE, TINY_FEAT, TINY_DIM, hid=16,
                            moco='MoCoV2')
PROTOTYPES = 32
# DINONeck's default init (std 0.02) is made for 2048-wide layers; on 32-wide layers the
# projection before the L2 norm is ~1e-3 and the first SGD step collapses it.
DINO_NECK = dict(type='DINONeck', in_channels=FEAT, out_channels=PROTOTYPES, hid_channels=32,
                 bottleneck_channels=16, init_cfg=dict(type='Kaiming', layer='Linear'))
DINO_CFG = dict(type='DINO', base_momentum=0.01, backbone=TINY_RESNET, neck=DINO_NECK,
                head=dict(type='DINOHead',
                          loss=dict(type='DINOLoss', out_channels=PROTOTYPES)))
VICREG_CFG = dict(type='VICReg', backbone=TINY_RESNET,
                  neck=dict(type='NonLinearNeck', in_channels=FEAT, hid_channels=32,
                            out_channels=32, num_layers=3, with_last_bn=False,
                            with_avg_pool=True, norm_cfg=dict(type='BN1d')),
                  head=dict(type='VICRegHead', loss=dict(type='VICRegLoss')))

PREPROCESSOR = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def build_gessl(base='SimCLR', task_size=4, task_head=None, **kwargs):
    """GeSSL around ``base``: a name of :data:`BASES` or a base config."""
    MessageHub.get_current_instance().update_info('max_iters', 100)
    cfg = dict(type='GeSSL', base=copy.deepcopy(BASES[base] if isinstance(base, str) else base),
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


def count_center_updates(loss) -> list:
    """Record the center updates of a ``DINOLoss`` (wraps its bound method)."""
    calls = []
    update = loss.update_center

    def counting(teacher):
        calls.append(teacher.shape)
        update(teacher)

    loss.update_center = counting
    return calls


def load_tool(relpath: str):
    """A script under tools/ as a module (in-process runs are faster than a subprocess)."""
    import importlib.util
    import os.path as osp
    path = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools', relpath)
    spec = importlib.util.spec_from_file_location(
        'gessl_tool_' + relpath.replace('/', '_')[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_plain(cfg: dict):
    """The plain algorithm of ``cfg`` with the tests' normalisation, initialised."""
    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA reads it
    model = MODELS.build(copy.deepcopy(dict(cfg, data_preprocessor=dict(
        type='SelfSupDataPreprocessor', **PREPROCESSOR))))
    model.init_weights()
    return model


def trainable_state(module) -> dict:
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


def changed_names(before: dict, after: dict) -> list:
    return [n for n in before if not torch.equal(before[n], after[n])]
