# VICReg with ResNet-50 (ImageNet stem): a 3-layer expander of 2048 (the ImageNet-100 size;
# the ImageNet model uses 8192).
model = dict(
    type='VICReg',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=2048,
              num_layers=3, with_last_bn=False, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='VICRegHead', loss=dict(type='VICRegLoss')))
