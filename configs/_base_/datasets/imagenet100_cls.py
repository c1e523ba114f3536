# Labelled ImageNet-100 for linear evaluation: mmpretrain's ImageNet settings read from
# data/imagenet100/ (gessl_mm's ImageNet100), 32 images per GPU.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py'

data_preprocessor = dict(num_classes=100)
train_dataloader = dict(dataset=dict(type='ImageNet100', data_root='data/imagenet100'))
val_dataloader = dict(dataset=dict(type='ImageNet100', data_root='data/imagenet100'))
test_dataloader = val_dataloader
