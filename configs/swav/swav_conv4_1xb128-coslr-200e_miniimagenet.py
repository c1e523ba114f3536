# Plain SwAV, Conv4 (C4) on miniImageNet (paper Table 5): the twin of
# swav-gessl_conv4_1xb128-coslr-200e_miniimagenet.py.
_base_ = [
    '../_base_/models/swav_conv4.py',
    '../_base_/datasets/miniimagenet_ssl.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
