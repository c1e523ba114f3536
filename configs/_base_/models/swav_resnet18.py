# SwAV (Caron et al. 2020) with ResNet-18, CIFAR stem: two 32 px crops (no multi-crop at
# this resolution), 3,000 prototypes.
model = dict(
    type='SwAV',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=True),
    neck=dict(type='SwAVNeck', in_channels=512, hid_channels=2048, out_channels=128,
              with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='SwAVHead',
              loss=dict(type='SwAVLoss', feat_dim=128, epsilon=0.05, temperature=0.1,
                        num_crops=[2], num_prototypes=3000)))
