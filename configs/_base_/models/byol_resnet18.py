# BYOL (Grill et al. 2020) with ResNet-18, CIFAR stem; mmpretrain's ImageNet heads (4096 ->
# 256). Target momentum 0.01 = 1 - 0.99, annealed to 0 by mmpretrain's CosineEMA. Plain BN
# everywhere (mmpretrain's necks default to SyncBN; GeSSL's tasks are per GPU).
model = dict(
    type='BYOL',
    base_momentum=0.01,
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=4096, out_channels=256,
              num_layers=2, with_bias=True, with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                             out_channels=256, num_layers=2, with_bias=True,
                             with_last_bn=False, with_avg_pool=False,
                             norm_cfg=dict(type='BN1d'))))
