# BYOL with a quarter-width ResNet-18 for 32x32 images (CIFAR stem), CPU friendly.
model = dict(
    type='BYOL',
    base_momentum=0.01,
    backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=16, stem_channels=16,
                  norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=128, hid_channels=256, out_channels=64,
              num_layers=2, with_bias=True, with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=64, hid_channels=256,
                             out_channels=64, num_layers=2, with_bias=True,
                             with_last_bn=False, with_avg_pool=False,
                             norm_cfg=dict(type='BN1d'))))
