# MoCo v2 with the quarter-width ResNet-18 of the CPU protocols (CIFAR stem, base_channels 16,
# 128-d features); heads and loss as in ./mocov2_resnet18.py. Batch norm over groups of 8
# (a batch of 32 as 4 devices; a GeSSL task of 16 as 2), so the key shuffle separates a
# query from its key.
_base_ = './mocov2_resnet18.py'
model = dict(
    backbone=dict(base_channels=16, stem_channels=16,
                  norm_cfg=dict(type='SplitBN', group_size=8)),
    neck=dict(in_channels=128))
