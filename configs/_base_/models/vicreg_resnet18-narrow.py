# VICReg with the quarter-width ResNet-18 of the CPU protocols (CIFAR stem, base_channels 16,
# 128-d features); heads and loss as in ./vicreg_resnet18.py.
_base_ = './vicreg_resnet18.py'
model = dict(backbone=dict(base_channels=16, stem_channels=16), neck=dict(in_channels=128))
