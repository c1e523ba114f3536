# Plain Barlow Twins in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores:
# 10,000 training images, quarter-width ResNet-18, batch 32, 10 epochs; see
# ../_base_/datasets/cifar10-10k_ssl.py): the twin of
# barlowtwins-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py. Paper scale (GPU):
# barlowtwins_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/barlowtwins_resnet18-narrow.py',
    '../_base_/datasets/cifar10-10k_ssl.py',
    '../_base_/schedules/sgd_coslr-10e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# lr 0.01, not the protocol's 0.05 (SimCLR's): on `val` 0.01 beat 0.05 (0.289 / 0.401 against
# 0.264 / 0.382 5-NN / linear, 512-d projector; tools/analysis/studies/cifar10/protocol.py).
# GeSSL's outer lr is its own (../_base_/gessl_cifar10-10k.py).
optim_wrapper = dict(optimizer=dict(lr=0.01))
