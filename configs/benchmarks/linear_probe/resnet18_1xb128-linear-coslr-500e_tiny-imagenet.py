# Linear evaluation on Tiny ImageNet (paper §6.2, Table 1): a linear classifier on the frozen
# features of a ResNet-18 with the CIFAR stem.
# SGD with momentum 0.9, batch 128, 500 epochs, lr 5e-2 decayed to 5e-6 by a cosine.
# The backbone comes from a GeSSL checkpoint (its `base.backbone.*` weights):
#   python tools/train.py \
#       configs/benchmarks/linear_probe/resnet18_1xb128-linear-coslr-500e_tiny-imagenet.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/PRETRAIN/epoch_200.pth
# A plain (non-GeSSL) checkpoint: add model.backbone.init_cfg.prefix=backbone.
_base_ = [
    'mmpretrain::_base_/models/resnet18_cifar.py',
    '../../_base_/datasets/tiny-imagenet_cls.py',
    '../../_base_/schedules/linear_sgd_coslr-500e.py',
    '../../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(backbone=dict(frozen_stages=4,
                           init_cfg=dict(type='Pretrained', checkpoint='',
                                         prefix='base.backbone.')),
             head=dict(num_classes=200, topk=(1, 5)))
