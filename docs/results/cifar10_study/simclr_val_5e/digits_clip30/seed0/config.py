custom_hooks = [
    dict(
        bank=dict(
            data_root='data/cifar10',
            num_images=10000,
            pipeline=[
                dict(type='PackInputs'),
            ],
            split='train',
            type='LocalCIFAR10'),
        interval=1,
        k=5,
        linear_probe=True,
        query=dict(
            data_root='data/cifar10',
            pipeline=[
                dict(type='PackInputs'),
            ],
            split='val',
            type='LocalCIFAR10'),
        type='FeatureEvalHook'),
    dict(type='RandomStateHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'gessl_mm',
    ])
data_preprocessor = dict(
    mean=[
        125.307,
        122.961,
        113.8575,
    ],
    num_support_views=2,
    std=[
        51.5865,
        50.847,
        51.255,
    ],
    task_size=16,
    to_rgb=False,
    type='TaskDataPreprocessor')
data_root = 'data/cifar10'
dataset_type = 'LocalCIFAR10'
default_hooks = dict(
    checkpoint=dict(
        _scope_='mmpretrain',
        interval=1000000,
        max_keep_ckpts=2,
        type='CheckpointHook'),
    logger=dict(_scope_='mmpretrain', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmpretrain', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmpretrain', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmpretrain', type='IterTimerHook'),
    visualization=dict(
        _scope_='mmpretrain', enable=False, type='VisualizationHook'))
default_scope = 'mmpretrain'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
eval_pipeline = [
    dict(type='PackInputs'),
]
feature_eval = dict(
    bank=dict(
        data_root='data/cifar10',
        num_images=10000,
        pipeline=[
            dict(type='PackInputs'),
        ],
        split='trainval',
        type='LocalCIFAR10'),
    query=dict(
        data_root='data/cifar10',
        pipeline=[
            dict(type='PackInputs'),
        ],
        split='test',
        type='LocalCIFAR10'))
gessl_data_preprocessor = dict(
    num_support_views=2, task_size=16, type='TaskDataPreprocessor')
gessl_model = dict(
    outer_loss='kl',
    ssl_loss_weight=1.0,
    task_head=dict(temperature=0.1, type='PrototypeTaskHead'))
gessl_optim_wrapper = dict(
    clip_grad=dict(max_norm=10),
    hypergrad=dict(type='reverse'),
    inner_lr=0.3,
    inner_steps=1,
    optimizer=dict(lr=0.05, momentum=0.9, type='SGD', weight_decay=0.0001),
    target_steps=10,
    tasks_per_update=2,
    type='BiLevelOptimWrapper')
gessl_train_pipeline = [
    dict(
        num_views=5,
        transforms=[
            [
                dict(
                    backend='pillow',
                    crop_ratio_range=(
                        0.08,
                        1.0,
                    ),
                    scale=32,
                    type='RandomResizedCrop'),
                dict(prob=0.5, type='RandomFlip'),
                dict(
                    prob=0.8,
                    transforms=[
                        dict(
                            brightness=0.4,
                            contrast=0.4,
                            hue=0.1,
                            saturation=0.4,
                            type='ColorJitter'),
                    ],
                    type='RandomApply'),
                dict(
                    channel_weights=(
                        0.114,
                        0.587,
                        0.2989,
                    ),
                    keep_channels=True,
                    prob=0.2,
                    type='RandomGrayscale'),
            ],
        ],
        type='MultiView'),
    dict(type='PackInputs'),
]
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(window_size=10)
model = dict(
    base=dict(
        backbone=dict(
            base_channels=16,
            depth=18,
            norm_cfg=dict(type='BN'),
            stem_channels=16,
            type='ResNet_CIFAR',
            zero_init_residual=False),
        head=dict(
            loss=dict(type='CrossEntropyLoss'),
            temperature=0.1,
            type='ContrastiveHead'),
        neck=dict(
            hid_channels=256,
            in_channels=128,
            norm_cfg=dict(type='BN1d'),
            num_layers=2,
            out_channels=64,
            type='NonLinearNeck',
            with_avg_pool=True),
        type='SimCLR'),
    outer_loss='kl',
    ssl_loss_weight=1.0,
    task_head=dict(temperature=0.1, type='PrototypeTaskHead'),
    type='GeSSL')
model_wrapper_cfg = dict(type='GeSSLDistributedWrapper')
num_images = 10000
optim_wrapper = dict(
    clip_grad=dict(max_norm=30),
    hypergrad=dict(type='reverse'),
    inner_lr=0.3,
    inner_params=[
        'neck',
    ],
    inner_steps=1,
    optimizer=dict(lr=0.05, momentum=0.9, type='SGD', weight_decay=0.0001),
    target_steps=10,
    tasks_per_update=2,
    type='BiLevelOptimWrapper')
param_scheduler = [
    dict(T_max=5, begin=0, by_epoch=True, end=5, type='CosineAnnealingLR'),
]
randomness = dict(deterministic=False, seed=0)
resume = False
train_cfg = dict(max_epochs=5, type='EpochBasedTrainLoop')
train_dataloader = dict(
    batch_size=32,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        data_root='data/cifar10',
        num_images=10000,
        pipeline=[
            dict(
                num_views=2,
                transforms=[
                    [
                        dict(
                            backend='pillow',
                            crop_ratio_range=(
                                0.08,
                                1.0,
                            ),
                            scale=32,
                            type='RandomResizedCrop'),
                        dict(prob=0.5, type='RandomFlip'),
                        dict(
                            prob=0.8,
                            transforms=[
                                dict(
                                    brightness=0.4,
                                    contrast=0.4,
                                    hue=0.1,
                                    saturation=0.4,
                                    type='ColorJitter'),
                            ],
                            type='RandomApply'),
                        dict(
                            channel_weights=(
                                0.114,
                                0.587,
                                0.2989,
                            ),
                            keep_channels=True,
                            prob=0.2,
                            type='RandomGrayscale'),
                    ],
                ],
                type='MultiView'),
            dict(type='PackInputs'),
        ],
        split='train',
        type='LocalCIFAR10'),
    drop_last=True,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='DefaultSampler'))
train_pipeline = [
    dict(
        num_views=2,
        transforms=[
            [
                dict(
                    backend='pillow',
                    crop_ratio_range=(
                        0.08,
                        1.0,
                    ),
                    scale=32,
                    type='RandomResizedCrop'),
                dict(prob=0.5, type='RandomFlip'),
                dict(
                    prob=0.8,
                    transforms=[
                        dict(
                            brightness=0.4,
                            contrast=0.4,
                            hue=0.1,
                            saturation=0.4,
                            type='ColorJitter'),
                    ],
                    type='RandomApply'),
                dict(
                    channel_weights=(
                        0.114,
                        0.587,
                        0.2989,
                    ),
                    keep_channels=True,
                    prob=0.2,
                    type='RandomGrayscale'),
            ],
        ],
        type='MultiView'),
    dict(type='PackInputs'),
]
view_pipeline = [
    dict(
        backend='pillow',
        crop_ratio_range=(
            0.08,
            1.0,
        ),
        scale=32,
        type='RandomResizedCrop'),
    dict(prob=0.5, type='RandomFlip'),
    dict(
        prob=0.8,
        transforms=[
            dict(
                brightness=0.4,
                contrast=0.4,
                hue=0.1,
                saturation=0.4,
                type='ColorJitter'),
        ],
        type='RandomApply'),
    dict(
        channel_weights=(
            0.114,
            0.587,
            0.2989,
        ),
        keep_channels=True,
        prob=0.2,
        type='RandomGrayscale'),
]
vis_backends = [
    dict(_scope_='mmpretrain', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmpretrain',
    type='UniversalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/study/cifar10_simclr_val_5e/digits_clip30/seed0'
