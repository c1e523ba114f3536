# SimCLR (Chen et al. 2020) with ResNet-18, CIFAR stem (3x3 conv, no max-pool) for 32-64 px
# images; STL-10 configs switch to the ImageNet stem (backbone type 'ResNet').
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=2048, out_channels=128,
              num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.1))
