# MoCo v2 with the Conv4 backbone; a queue of 4,096 keys. Batch norm over groups of 32
# (SplitBN): MoCo's shuffled BN on one device (reason in ./mocov2_resnet18.py).
model = dict(
    type='MoCo',
    queue_len=4096,
    feat_dim=128,
    momentum=0.01,
    backbone=dict(type='Conv4', hid_channels=64, out_channels=64,
                  norm_cfg=dict(type='SplitBN', group_size=32)),
    neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=512, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
