# Faster R-CNN R50-C4 fine-tuned from a GeSSL ResNet-50 on VOC07+12 trainval, tested on
# VOC07 test: the self-supervised detection protocol of MoCo used in the GeSSL paper
# (Sec. 6.4). 24k iterations of 16 images (8 GPUs x 2), lr 0.02 divided by 10 at 18k
# and 22k; multi-scale training (shorter side 480-800), test at 800; SyncBN everywhere,
# all stages fine-tuned, plus MoCo's extra norm after res5.
#
#   bash tools/benchmarks/mmdet/dist_train_c4.sh \
#       configs/benchmarks/mmdet/faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc0712.py \
#       PRETRAIN 8
#
# PRETRAIN: a GeSSL pretraining checkpoint (keys base.backbone.*), a plain mmpretrain
# self-supervised one (backbone.*) or a backbone-only file from
# tools/model_converters/extract_backbone.py (no prefix). It is loaded by the
# StrictPretrained init_cfg of the detector, which fills the 3-stage backbone from
# conv1/bn1/layer1-3 and the res5 RoI head from layer4, and fails with the list of keys
# when anything does not fit. Without the scripts:
#   --cfg-options model.init_cfg.checkpoint=PRETRAIN
# (the `pretrained` variable below is read once, when the file is parsed).
# One device: the scripts' train_c4.sh or --norm BN (SyncBN -> BN; mmengine's Runner
# also reverts SyncBN by itself without a launcher). The final test is VOCMetric at IoU
# 0.50:0.05:0.95 (11-point AP as for VOC07): pascal_voc/AP50 is the usual VOC AP50,
# pascal_voc/mAP the COCO-style AP, pascal_voc/AP75 the strict one (validation during
# training: AP50 only).
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'

custom_imports = dict(imports=['gessl_mm', 'gessl_mm.mmdet_utils'], allow_failed_imports=False)

pretrained = 'checkpoints/gessl_resnet50.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    # torchvision-style (pytorch) ResNet on RGB images normalised with ImageNet's
    # statistics, as the self-supervised backbones were trained.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint=pretrained,
        # GeSSL checkpoint, plain mmpretrain checkpoint, backbone-only file: the first
        # prefix that the checkpoint's keys use.
        prefix=('base.backbone.', 'backbone.', ''),
        mapping={'layer4.': 'roi_head.shared_head.layer4.', '': 'backbone.'}),
    backbone=dict(
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch', init_cfg=None),
    roi_head=dict(
        shared_head=dict(
            type='C4ResLayer', norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
            extra_norm=True, init_cfg=None),
        bbox_head=dict(num_classes=20)))

data_root = 'data/VOCdevkit/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 480), (1333, 512), (1333, 544), (1333, 576), (1333, 608),
                (1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768),
                (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    # after Resize: the boxes stay in the original image's coordinates
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

# pseudo_collate (the Runner's default) is explicit so that mmpretrain-style tools, which
# default to default_collate, batch detection samples correctly too.
train_dataloader = dict(
    batch_size=2,
    collate_fn=dict(type='pseudo_collate'),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # VOCDataset records its year in metainfo['dataset_type'], which differs
        # between the two parts.
        ignore_keys=['dataset_type'],
        datasets=[
            dict(
                type='VOCDataset',
                data_root=data_root,
                ann_file='VOC2007/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2007/'),
                filter_cfg=dict(filter_empty_gt=True, min_size=32),
                pipeline=train_pipeline),
            dict(
                type='VOCDataset',
                data_root=data_root,
                ann_file='VOC2012/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2012/'),
                filter_cfg=dict(filter_empty_gt=True, min_size=32),
                pipeline=train_pipeline)
        ]))
val_dataloader = dict(
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# Final test: AP at IoU 0.5, 0.55, ..., 0.95 (11-point interpolation, VOC07's): AP50,
# AP75 and their mean (mAP, the COCO-style AP), as reported by MoCo and the papers that
# follow it. Validation during training: AP50 only (one pass of eval_map instead of ten).
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points', iou_thrs=[0.5])
test_evaluator = dict(
    type='VOCMetric',
    metric='mAP',
    eval_mode='11points',
    iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])

max_iters = 24000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[18000, 22000],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
# 8 GPUs x 2 images; --auto-scale-lr scales lr for another total batch size (the
# iteration count stays: keep 16 images per iteration for the paper's schedule).
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
