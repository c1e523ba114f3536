# Plain VICReg, ResNet-50 on ImageNet-100 (paper Tables 2, 7): the twin of
# vicreg-gessl_resnet50_8xb32-coslr-200e_in100.py.
_base_ = [
    '../_base_/models/vicreg_resnet50.py',
    '../_base_/datasets/imagenet100_ssl.py',
    'mmpretrain::_base_/schedules/imagenet_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
