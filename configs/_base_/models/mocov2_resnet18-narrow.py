# MoCo v2 with the quarter-width ResNet-18 of the CPU protocols (CIFAR stem, base_channels 16,
# 128-d features); heads and loss as in ./mocov2_resnet18.py. Batch norm over groups of 8
# (a batch of 32 as 4 devices; a GeSSL task of 16 as 2), so the key shuffle separates a
# query from its key. A queue of 512 keys (16 batches of 32, as 4,096 are at MoCo's CIFAR-10
# batch of 256): 4,096 keys, 128 batches old here, left the plain twin below its
# initialisation on `val` (tools/analysis/studies/cifar10/protocol.py: 0.236 / 0.263 5-NN /
# linear against 0.305 / 0.338 with 512 keys at lr 0.01; docs/benchmarks.md).
_base_ = './mocov2_resnet18.py'
model = dict(
    queue_len=512,
    backbone=dict(base_channels=16, stem_channels=16,
                  norm_cfg=dict(type='SplitBN', group_size=8)),
    neck=dict(in_channels=128))
