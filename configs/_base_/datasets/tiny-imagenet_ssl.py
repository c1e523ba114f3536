# Tiny ImageNet (paper §6.1, App. D): 200 classes, 100,000 training and 10,000 validation
# images (64x64), read from data/tiny-imagenet-200/ as released (gessl_mm's TinyImageNet).
# Pretraining reads the train split without labels; frozen features are evaluated with
# bank = train, query = val (the released test split has no labels).
dataset_type = 'TinyImageNet'
data_root = 'data/tiny-imagenet-200'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)

# SimCLR's augmentations at 64 px (App. C).
view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.08, 1.), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
# GeSSL configs: 5 views per image (App. C), 2 support + 3 query (see ../gessl.py).
gessl_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=5, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
eval_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))

feature_eval = dict(
    bank=dict(type=dataset_type, data_root=data_root, split='train', pipeline=eval_pipeline),
    query=dict(type=dataset_type, data_root=data_root, split='val', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='FeatureEvalHook', k=5, interval=10, linear_probe=False, **feature_eval),
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
