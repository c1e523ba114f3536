# Linear evaluation on ImageNet (paper §6.2, Tables 2, 8): a linear classifier on the frozen
# features of a ResNet-50.
# SGD with momentum 0.9, batch 128, 500 epochs, lr 5e-2 decayed to 5e-6 by a cosine.
# The backbone comes from a GeSSL checkpoint (its `base.backbone.*` weights):
#   python tools/train.py \
#       configs/benchmarks/linear_probe/resnet50_8xb16-linear-coslr-500e_in1k.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/PRETRAIN/epoch_200.pth
# A plain (non-GeSSL) checkpoint: add model.backbone.init_cfg.prefix=backbone.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../../_base_/datasets/imagenet_cls.py',
    '../../_base_/schedules/linear_sgd_coslr-500e.py',
    '../../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(backbone=dict(frozen_stages=4,
                           init_cfg=dict(type='Pretrained', checkpoint='',
                                         prefix='base.backbone.')))
train_dataloader = dict(batch_size=16)  # 8 GPUs x 16 = 128
