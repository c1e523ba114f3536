# Semi-supervised fine-tuning on 10% of the ImageNet labels (paper §6.3, Table 3):
# the whole ResNet-50 and a linear classifier are fine-tuned for 50 epochs on the balanced
# 10% subset (data/imagenet/meta/train_10percent.txt, made from SimCLR's list, see
# docs/configs.md) with lr 1.0 for the classifier and 0.01 for the backbone;
# evaluated on the val split.
#   python tools/train.py \
#       configs/benchmarks/semi_supervised/resnet50_8xb32-ft-coslr-50e_in1k-10pct.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/PRETRAIN/epoch_200.pth
# A plain (non-GeSSL) checkpoint: add model.backbone.init_cfg.prefix=backbone.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../../_base_/datasets/imagenet_cls.py',
    '../../_base_/schedules/finetune_sgd_coslr-50e.py',
    '../../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(backbone=dict(
    init_cfg=dict(type='Pretrained', checkpoint='', prefix='base.backbone.')))
train_dataloader = dict(
    dataset=dict(ann_file='meta/train_10percent.txt'))
# classifier lr 1.0; backbone lr 0.01 = 1.0 x 0.01
optim_wrapper = dict(optimizer=dict(lr=1.0),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.01)}))
