# SimSiam (Chen & He 2021) with ResNet-18, CIFAR stem: 3-layer projector 2048, predictor
# bottleneck 512 (the paper's CIFAR setting). Plain BN everywhere (mmpretrain's necks
# default to SyncBN; GeSSL's tasks are per GPU).
model = dict(
    type='SimSiam',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=2048, out_channels=2048,
              num_layers=3, with_last_bn_affine=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=2048, hid_channels=512,
                             out_channels=2048, with_avg_pool=False, with_last_bn=False,
                             with_last_bias=True, norm_cfg=dict(type='BN1d'))))
