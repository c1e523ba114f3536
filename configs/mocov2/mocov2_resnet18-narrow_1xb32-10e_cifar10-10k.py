# Plain MoCo v2 in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores:
# 10,000 training images, quarter-width ResNet-18, batch 32, 10 epochs; see
# ../_base_/datasets/cifar10-10k_ssl.py): the twin of
# mocov2-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py. Paper scale (GPU):
# mocov2_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/mocov2_resnet18-narrow.py',
    '../_base_/datasets/cifar10-10k_ssl.py',
    '../_base_/schedules/sgd_coslr-10e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# lr 0.01, not the protocol's 0.05 (SimCLR's): MoCo v2's CIFAR-10 recipe is lr 0.06 at batch
# 512; on `val` 0.01 beat 0.05 (0.305 / 0.338 against 0.285 / 0.333, 512 keys; protocol.py).
# GeSSL's outer lr is its own (../_base_/gessl_cifar10-10k.py).
optim_wrapper = dict(optimizer=dict(lr=0.01))
