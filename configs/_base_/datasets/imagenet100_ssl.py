# ImageNet-100 (paper §6.1, App. D; Tian et al. 2020): 100 ImageNet classes read from class
# folders in data/imagenet100/{train,val}/ (gessl_mm's ImageNet100), with mmpretrain's
# SimCLR ImageNet augmentations (224 px). Frozen features: bank = train, query = val.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32_simclr.py'

dataset_type = 'ImageNet100'
data_root = 'data/imagenet100'
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))

# GeSSL configs: 5 views per image (App. C), 2 support + 3 query (see ../gessl.py).
gessl_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=5, transforms=[_base_.view_pipeline]),
    dict(type='PackInputs'),
]
eval_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
feature_eval = dict(
    bank=dict(type=dataset_type, data_root=data_root, split='train', pipeline=eval_pipeline),
    query=dict(type=dataset_type, data_root=data_root, split='val', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
