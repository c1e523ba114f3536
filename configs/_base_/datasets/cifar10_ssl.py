# CIFAR-10 (paper §6.1, App. D): 50,000 training and 10,000 test images, 32x32, read from
# data/cifar10/ in either layout: the official python batches (cifar-10-batches-py/) or an
# image-folder tree ({train,test}/<class>/*.jpg|png), decoded once into memory; never
# downloaded (a missing folder raises FileNotFoundError with both layouts; docs/configs.md).
# Pretraining reads the 50,000 training images (`trainval`) without labels; frozen features
# are evaluated with bank = trainval, query = test. (`train` / `val` are 45,000 / 5,000 of
# them, for choosing settings: LocalCIFAR10.)
dataset_type = 'LocalCIFAR10'
data_root = 'data/cifar10'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[125.307, 122.961, 113.8575],
                         std=[51.5865, 50.847, 51.255], to_rgb=False)  # images are RGB

# SimCLR's augmentations at 32 px (the paper uses SimCLR's for every method, App. C).
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
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='trainval',
                 pipeline=train_pipeline))

# Labelled sets for evaluating frozen features (5-NN, linear probe): read by FeatureEvalHook
# and by tools/test.py.
feature_eval = dict(
    bank=dict(type=dataset_type, data_root=data_root, split='trainval',
              pipeline=eval_pipeline),
    query=dict(type=dataset_type, data_root=data_root, split='test', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='FeatureEvalHook', k=5, interval=10, linear_probe=False, **feature_eval),
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
