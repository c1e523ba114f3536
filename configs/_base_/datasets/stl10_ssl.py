# STL-10 (paper §6.1, App. D): 96x96 images, 5,000 labelled training images (10 classes),
# 8,000 test images and 100,000 unlabelled images, read from data/stl10/stl10_binary/ (the
# binary release; gessl_mm's STL10 dataset). Pretraining reads train + unlabeled (105,000
# images) without labels; frozen features are evaluated with bank = train, query = test.
dataset_type = 'STL10'
data_root = 'data/stl10'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=False)  # images are RGB

# SimCLR's augmentations at 96 px (App. C).
view_pipeline = [
    dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.08, 1.), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
# GeSSL configs: 5 views per image (App. C), 2 support + 3 query (see ../gessl.py).
gessl_train_pipeline = [
    dict(type='MultiView', num_views=5, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
eval_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train+unlabeled',
                 pipeline=train_pipeline))

feature_eval = dict(
    bank=dict(type=dataset_type, data_root=data_root, split='train', pipeline=eval_pipeline),
    query=dict(type=dataset_type, data_root=data_root, split='test', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='FeatureEvalHook', k=5, interval=10, linear_probe=False, **feature_eval),
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
