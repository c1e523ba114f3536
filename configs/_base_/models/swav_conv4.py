# SwAV with the Conv4 backbone: two crops, 3,000 prototypes.
model = dict(
    type='SwAV',
    backbone=dict(type='Conv4', hid_channels=64, out_channels=64),
    neck=dict(type='SwAVNeck', in_channels=64, hid_channels=512, out_channels=128,
              with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='SwAVHead',
              loss=dict(type='SwAVLoss', feat_dim=128, epsilon=0.05, temperature=0.1,
                        num_crops=[2], num_prototypes=3000)))
