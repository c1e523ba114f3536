# Plain VICReg, ResNet-18 on CIFAR-10 (paper Table 1): the twin of
# vicreg-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = [
    '../_base_/models/vicreg_resnet18.py',
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
