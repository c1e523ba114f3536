# Labelled ImageNet for linear evaluation and fine-tuning: mmpretrain's ImageNet settings
# (random resized crops and flips; resize 256 and centre crop 224 for evaluation) read
# through LocalImageNet from data/imagenet/, 32 images per GPU.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py'

train_dataloader = dict(dataset=dict(type='LocalImageNet', data_root='data/imagenet'))
val_dataloader = dict(dataset=dict(type='LocalImageNet', data_root='data/imagenet'))
test_dataloader = val_dataloader
