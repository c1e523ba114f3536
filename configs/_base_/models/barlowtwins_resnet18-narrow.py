# Barlow Twins with the quarter-width ResNet-18 of the CPU protocols (CIFAR stem, base_channels 16,
# 128-d features); loss as in ./barlowtwins_resnet18.py. A 512-d projector: the 2048-d one's
# 2048 x 2048 cross-correlation, estimated from batches of 32, left the plain twin below its
# initialisation: 0.174 / 0.270 5-NN / linear on `val` at lr 0.01, against 0.289 / 0.401 with
# 512-d (tools/analysis/studies/cifar10/protocol.py), and below it on `test` at lr 0.05
# (docs/benchmarks.md).
_base_ = './barlowtwins_resnet18.py'
model = dict(backbone=dict(base_channels=16, stem_channels=16),
             neck=dict(in_channels=128, hid_channels=512, out_channels=512),
             head=dict(in_channels=512))
