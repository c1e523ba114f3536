# Plain SimCLR, Conv4 (C4) on CIFAR-FS (paper Table 5): the twin of
# simclr-gessl_conv4_1xb128-coslr-200e_cifar-fs.py.
_base_ = [
    '../_base_/models/simclr_conv4.py',
    '../_base_/datasets/cifar-fs_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
