# Plain MoCo v3, ViT-B/16 on ImageNet (paper App. F.1, Table 12):
# mmpretrain's config mocov3_vit-base-p16_16xb256-amp-coslr-300e_in1k,
# reading data/imagenet/ through LocalImageNet (a clear error when the data is missing).
# The plain twin of mocov3-gessl_vit-base-p16_16xb256-amp-coslr-300e_in1k.py.
_base_ = [
    'mmpretrain::mocov3/mocov3_vit-base-p16_16xb256-amp-coslr-300e_in1k.py',
    '../_base_/datasets/imagenet_eval.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

train_dataloader = dict(dataset=dict(type='LocalImageNet'))
