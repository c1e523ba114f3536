# SimCLR with ResNet-50 (ImageNet stem), mmpretrain's ImageNet model with plain BN (GeSSL
# adapts on tasks of one GPU's batch; see docs/configs.md).
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=128,
              num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.1))
