# CIFAR-FS (paper §6.5, App. D): the 100 CIFAR-100 classes (32x32, 600 images each) split
# 64 / 16 / 20 into train / val / test classes (Bertinetto et al.), read from
# data/cifar-fs/ (gessl_mm's CIFARFS). Pretraining reads the train classes without labels;
# tools/analysis/few_shot.py draws episodes from `feature_eval.query`, the test classes.
dataset_type = 'CIFARFS'
data_root = 'data/cifar-fs'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[129.304, 124.070, 112.434],
                         std=[68.170, 65.392, 70.418], to_rgb=True)

# SimCLR's augmentations at 32 px (App. C).
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.08, 1.), backend='pillow'),
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
eval_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), backend='pillow'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))

# Few-shot evaluation (tools/analysis/few_shot.py; --split val selects the val classes).
feature_eval = dict(
    query=dict(type=dataset_type, data_root=data_root, split='test', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
