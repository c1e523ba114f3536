# miniImageNet (paper §6.5, App. D): 100 classes of 600 images, 84x84, split 64 / 16 / 20
# into train / val / test classes (Ravi & Larochelle), read from data/miniimagenet/
# (gessl_mm's MiniImageNet). Pretraining reads the train classes without labels;
# tools/analysis/few_shot.py draws N-way K-shot episodes from `feature_eval.query`, the test
# classes (never seen in pretraining).
dataset_type = 'MiniImageNet'
data_root = 'data/miniimagenet'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)

# SimCLR's augmentations at 84 px (App. C).
view_pipeline = [
    dict(type='RandomResizedCrop', scale=84, crop_ratio_range=(0.08, 1.), backend='pillow'),
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
    dict(type='Resize', scale=(84, 84), backend='pillow'),
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
