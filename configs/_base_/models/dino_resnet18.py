# DINO (Caron et al. 2021) with ResNet-18, CIFAR stem: this package's DINO (gessl_mm), a
# 3-layer head of 2048 -> 256 -> 4,096 prototypes, two global crops.
model = dict(
    type='DINO',
    base_momentum=0.004,  # DINO's teacher momentum 0.996, annealed to 1
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='DINONeck', in_channels=512, out_channels=4096, hid_channels=2048,
              bottleneck_channels=256, num_layers=3, norm_cfg=dict(type='BN1d')),
    head=dict(type='DINOHead',
              loss=dict(type='DINOLoss', out_channels=4096, teacher_temp=0.04,
                        student_temp=0.1)))
