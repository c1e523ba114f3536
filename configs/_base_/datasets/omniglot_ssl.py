# Omniglot (paper §6.5, App. D): 1,623 handwritten characters (20 drawings each) of 50
# alphabets, read from data/omniglot/ as released (gessl_mm's Omniglot): the background set
# (964 characters) is the train split, the evaluation set (659) the test split. Images are
# resized from 105 to 28 px. Pretraining reads the train characters without labels;
# tools/analysis/few_shot.py draws episodes from `feature_eval.query`, the test characters.
dataset_type = 'Omniglot'
data_root = 'data/omniglot'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)

# Crops only: colour transforms do nothing on black-and-white strokes, and a flipped
# character is another character.
view_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.2, 1.), backend='pillow'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(28, 28), backend='pillow'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
# GeSSL configs: 5 views per image (App. C), 2 support + 3 query (see ../gessl.py).
gessl_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(28, 28), backend='pillow'),
    dict(type='MultiView', num_views=5, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
eval_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(28, 28), backend='pillow'),
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

# Few-shot evaluation (tools/analysis/few_shot.py).
feature_eval = dict(
    query=dict(type=dataset_type, data_root=data_root, split='test', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
