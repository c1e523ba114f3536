# VICReg (Bardes et al. 2022) with ResNet-18, CIFAR stem: this package's VICReg (gessl_mm),
# a 3-layer expander of 2048, loss weights 25 / 25 / 1.
model = dict(
    type='VICReg',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=2048, out_channels=2048,
              num_layers=3, with_last_bn=False, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='VICRegHead', loss=dict(type='VICRegLoss')))
