# Plain SwAV in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores:
# 10,000 training images, quarter-width ResNet-18, batch 32, 10 epochs; see
# ../_base_/datasets/cifar10-10k_ssl.py): the twin of
# swav-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py. Paper scale (GPU):
# swav_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/swav_resnet18-narrow.py',
    '../_base_/datasets/cifar10-10k_ssl.py',
    '../_base_/schedules/sgd_coslr-10e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# SwAV's queue and frozen prototypes as in the paper-scale twin, for batches of 32 (the
# queue starts at epoch 15, i.e. not within these 10 epochs, as it starts at 15 of 200).
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='SwAVHook', priority='VERY_HIGH', batch_size=32, epoch_queue_starts=15,
         crops_for_assign=[0, 1], feat_dim=128, queue_length=3840,
         frozen_layers_cfg=dict(prototypes=390)),
]
find_unused_parameters = True
