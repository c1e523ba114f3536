# As mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-1x_coco.py (read its header) with the 2x
# schedule: 24 epochs, lr divided by 10 after epochs 16 and 22.
#
#   bash tools/benchmarks/mmdet/dist_train_fpn.sh \
#       configs/benchmarks/mmdet/mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-2x_coco.py PRETRAIN 8
_base_ = './mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-1x_coco.py'

max_epochs = 24
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[16, 22],
        gamma=0.1)
]
