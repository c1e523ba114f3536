# Linear evaluation on the digits (offline, runs on a CPU): the protocol of paper §6.2
# (frozen features, SGD with momentum 0.9, batch 128, 500 epochs, lr 5e-2 -> 5e-6 cosine) for
# the narrow ResNet-18 of the digits pretraining configs (configs/simclr/*_digits.py):
#   python tools/train.py \
#       configs/benchmarks/linear_probe/resnet18-narrow_1xb128-linear-coslr-500e_digits.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/DIGITS_RUN/epoch_10.pth
# A plain (non-GeSSL) checkpoint: add model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../../_base_/datasets/digits_cls.py',
    '../../_base_/schedules/linear_sgd_coslr-500e.py',
    '../../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=16, stem_channels=16,
                  norm_cfg=dict(type='BN'), zero_init_residual=False, frozen_stages=4,
                  init_cfg=dict(type='Pretrained', checkpoint='', prefix='base.backbone.')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
train_cfg = dict(val_interval=50)
default_hooks = dict(checkpoint=dict(interval=50))
