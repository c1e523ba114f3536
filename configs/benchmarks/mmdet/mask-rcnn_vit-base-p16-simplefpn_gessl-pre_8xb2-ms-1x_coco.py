# Mask R-CNN with a plain ViT-B/16 backbone fine-tuned from a GeSSL ViT (GeSSL around
# MoCo v3 or MAE) on COCO 2017, with ViTDet's simple feature pyramid (strides 4-32 from
# the stride-16 map, plus a max-pooled stride 64 for the RPN). 1x schedule (12 epochs,
# 8 GPUs x 2 images), AdamW lr 1e-4, weight decay 0.1, layer-wise lr decay 0.7, drop
# path 0.1; multi-scale training (640-800). This is a 1x reference on the same data
# pipeline as the R50 configs, not ViTDet's 100-epoch large-scale-jitter recipe (which
# reaches a higher AP). --amp is recommended (global attention over ~4k tokens per
# image).
#
#   bash tools/benchmarks/mmdet/dist_train_fpn.sh \
#       configs/benchmarks/mmdet/mask-rcnn_vit-base-p16-simplefpn_gessl-pre_8xb2-ms-1x_coco.py \
#       PRETRAIN 8 --amp
#
# PRETRAIN: a GeSSL checkpoint whose base is MoCoV3 (MoCoV3ViT) or MAE (MAEViT), keys
# base.backbone.*, or a backbone-only file. Its position embedding is resized to this
# model's grid when it is loaded; every other key must fit (StrictPretrained).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['gessl_mm', 'gessl_mm.mmdet_utils'], allow_failed_imports=False)

pretrained = 'checkpoints/gessl_vit-base-p16.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint=pretrained,
        prefix=('base.backbone.', 'backbone.', ''),
        mapping={'': 'backbone.'}),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=224,  # of the pretraining; the position embedding follows the input
        patch_size=16,
        out_type='featmap',
        out_indices=[-1],
        final_norm=True,
        drop_path_rate=0.1,
        init_cfg=None),
    neck=dict(
        _delete_=True,
        type='SimpleFeaturePyramid',
        in_channels=768,
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        num_outs=5,
        norm_cfg=dict(type='LN2d')),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768),
                (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# pseudo_collate (the Runner's default) is explicit so that mmpretrain-style tools, which
# default to default_collate, batch detection samples correctly too.
train_dataloader = dict(
    batch_size=2, collate_fn=dict(type='pseudo_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='pseudo_collate'))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.)
        }))
