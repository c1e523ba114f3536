# MoCo v2 (Chen et al. 2020b) with ResNet-18, CIFAR stem. mmpretrain's momentum convention:
# 0.01 = 1 - 0.99. The queue holds 4,096 keys (a multiple of the task size and batch size).
# Batch norm over groups of 32 samples (SplitBN), as MoCo's shuffled BN on 8 GPUs of 32:
# on one device one statistic for the whole batch lets the network cheat the pretext task
# (MoCo, Sec. 3.3). The CPU protocol also shortens the queue: ./mocov2_resnet18-narrow.py.
model = dict(
    type='MoCo',
    queue_len=4096,
    feat_dim=128,
    momentum=0.01,
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='SplitBN', group_size=32),
                  zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=2048, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
