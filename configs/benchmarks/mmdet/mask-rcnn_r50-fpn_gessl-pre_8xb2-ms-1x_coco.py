# Mask R-CNN R50-FPN fine-tuned from a GeSSL ResNet-50 on COCO 2017 train, tested on
# val2017 (the FPN variant of the GeSSL paper's COCO transfer, Sec. 6.4). 1x schedule:
# 12 epochs of 16 images per iteration (8 GPUs x 2), lr 0.02 divided by 10 after epochs
# 8 and 11; multi-scale training (shorter side 640-800), test at 800. As OpenMMLab's
# self-supervised benchmarks (mmselfsup, mmpretrain) do: SyncBN in the backbone, the
# FPN and the heads (4conv1fc box head), all stages fine-tuned.
#
#   bash tools/benchmarks/mmdet/dist_train_fpn.sh \
#       configs/benchmarks/mmdet/mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-1x_coco.py PRETRAIN 8
#
# PRETRAIN: a GeSSL pretraining checkpoint (base.backbone.*), a plain mmpretrain one
# (backbone.*) or a backbone-only file (no prefix), loaded by the StrictPretrained
# init_cfg of the detector, which fails with the list of keys when anything does not
# fit. Without the scripts: --cfg-options model.init_cfg.checkpoint=PRETRAIN.
# One device: train_fpn.sh or --norm BN. Metric: CocoMetric, bbox and segm.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['gessl_mm', 'gessl_mm.mmdet_utils'], allow_failed_imports=False)

pretrained = 'checkpoints/gessl_resnet50.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint=pretrained,
        prefix=('base.backbone.', 'backbone.', ''),
        mapping={'': 'backbone.'}),
    backbone=dict(
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch', init_cfg=None),
    neck=dict(norm_cfg=norm_cfg),
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
