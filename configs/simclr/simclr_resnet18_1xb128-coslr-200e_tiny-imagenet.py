# Plain SimCLR, ResNet-18 on Tiny ImageNet (paper Table 1): the twin of
# simclr-gessl_resnet18_1xb128-coslr-200e_tiny-imagenet.py.
_base_ = [
    '../_base_/models/simclr_resnet18.py',
    '../_base_/datasets/tiny-imagenet_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
