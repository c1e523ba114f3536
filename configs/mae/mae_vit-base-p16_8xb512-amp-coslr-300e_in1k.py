# Plain MAE, ViT-B/16 on ImageNet (paper App. F.1, Table 12):
# mmpretrain's config mae_vit-base-p16_8xb512-amp-coslr-300e_in1k,
# reading data/imagenet/ through LocalImageNet (a clear error when the data is missing).
# The plain twin of mae-gessl_vit-base-p16_8xb512-amp-coslr-300e_in1k.py.
_base_ = [
    'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
    '../_base_/datasets/imagenet_eval.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

train_dataloader = dict(dataset=dict(type='LocalImageNet'))
