# Plain SimSiam, ResNet-18 on CIFAR-10 (paper Table 1): the twin of
# simsiam-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/simsiam_resnet18.py',
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# SimSiam keeps the predictor's learning rate fixed (Chen & He 2021, as mmpretrain does).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'predictor': dict(fix_lr=True)}))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True, lr=0.05),
]
