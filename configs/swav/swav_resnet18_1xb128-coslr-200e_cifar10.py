# Plain SwAV, ResNet-18 on CIFAR-10 (paper Table 1): the twin of
# swav-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/swav_resnet18.py',
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# SwAV's queue (from epoch 15, 3,840 features = 30 batches) and prototypes frozen for the
# first epoch (390 iterations), as in mmpretrain's SwAV.
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='SwAVHook', priority='VERY_HIGH', batch_size=128, epoch_queue_starts=15,
         crops_for_assign=[0, 1], feat_dim=128, queue_length=3840,
         frozen_layers_cfg=dict(prototypes=390)),
]
find_unused_parameters = True
