# Plain BYOL, ResNet-50 on ImageNet (paper Tables 2, 3 and 8):
# mmpretrain's config byol_resnet50_16xb256-coslr-200e_in1k,
# reading data/imagenet/ through LocalImageNet (a clear error when the data is missing).
# The plain twin of byol-gessl_resnet50_16xb256-coslr-200e_in1k.py.
_base_ = [
    'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/datasets/imagenet_eval.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

train_dataloader = dict(dataset=dict(type='LocalImageNet'))
