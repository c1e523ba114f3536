# Plain BYOL in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores:
# 10,000 training images, quarter-width ResNet-18, batch 32, 10 epochs; see
# ../_base_/datasets/cifar10-10k_ssl.py): the twin of
# byol-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py. Paper scale (GPU):
# byol_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/byol_resnet18-narrow.py',
    '../_base_/datasets/cifar10-10k_ssl.py',
    '../_base_/schedules/sgd_coslr-10e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
