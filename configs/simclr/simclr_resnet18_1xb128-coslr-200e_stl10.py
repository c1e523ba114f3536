# Plain SimCLR, ResNet-18 on STL-10 (paper Table 1): the twin of
# simclr-gessl_resnet18_1xb128-coslr-200e_stl10.py.
_base_ = [
    '../_base_/models/simclr_resnet18.py',
    '../_base_/datasets/stl10_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# 96 px images: ResNet-18 with the ImageNet stem (7x7 conv, max-pool).
model = dict(backbone=dict(type='ResNet'))
