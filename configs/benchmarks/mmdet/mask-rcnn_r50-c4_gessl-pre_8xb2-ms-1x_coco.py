# Mask R-CNN R50-C4 fine-tuned from a GeSSL ResNet-50 on COCO 2017 train, tested on
# val2017: the self-supervised detection protocol of MoCo used in the GeSSL paper
# (Sec. 6.4). 1x schedule: 12 epochs of 16 images per iteration (8 GPUs x 2; ~90k
# iterations), lr 0.02 divided by 10 after epochs 8 and 11; multi-scale training
# (shorter side 640-800), test at 800; SyncBN everywhere, all stages fine-tuned, plus
# MoCo's extra norm after res5.
#
#   bash tools/benchmarks/mmdet/dist_train_c4.sh \
#       configs/benchmarks/mmdet/mask-rcnn_r50-c4_gessl-pre_8xb2-ms-1x_coco.py PRETRAIN 8
#
# PRETRAIN and the switches (one device, --cfg-options model.init_cfg.checkpoint=...):
# see faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc0712.py. Metric: CocoMetric, bbox and
# segm (coco/bbox_mAP = AP at IoU 0.50:0.95, coco/bbox_mAP_50, coco/bbox_mAP_75, ...).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'

custom_imports = dict(imports=['gessl_mm', 'gessl_mm.mmdet_utils'], allow_failed_imports=False)

pretrained = 'checkpoints/gessl_resnet50.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint=pretrained,
        prefix=('base.backbone.', 'backbone.', ''),
        mapping={'layer4.': 'roi_head.shared_head.layer4.', '': 'backbone.'}),
    backbone=dict(
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch', init_cfg=None),
    roi_head=dict(
        shared_head=dict(
            type='C4ResLayer', norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
            extra_norm=True, init_cfg=None)))

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

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
