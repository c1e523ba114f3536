# As faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc0712.py (read its header), trained on
# VOC07 trainval only (5011 images) and tested on VOC07 test: same 24k-iteration
# schedule (lr / 10 at 18k and 22k), same metric.
#
#   bash tools/benchmarks/mmdet/dist_train_c4.sh \
#       configs/benchmarks/mmdet/faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc07.py PRETRAIN 8
_base_ = './faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc0712.py'

data_root = 'data/VOCdevkit/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='VOCDataset',
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/trainval.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}}))
