# Barlow Twins (Zbontar et al. 2021) with ResNet-18, CIFAR stem: 3-layer projector of 2048
# (the ImageNet model's 8192 scaled to ResNet-18), lambda 0.0051.
model = dict(
    type='BarlowTwins',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=2048, out_channels=2048,
              num_layers=3, with_last_bn=False, with_last_bn_affine=False,
              with_avg_pool=True, norm_cfg=dict(type='BN1d'),
              init_cfg=dict(type='Kaiming', distribution='uniform', layer=['Linear'])),
    head=dict(type='LatentCrossCorrelationHead', in_channels=2048,
              loss=dict(type='CrossCorrelationLoss')))
