# Plain BYOL on the digits: the twin of byol-gessl_resnet18-narrow_1xb32-10e_digits.py.
_base_ = [
    '../_base_/models/byol_resnet18-narrow.py',
    '../_base_/datasets/digits_ssl.py',
    '../_base_/schedules/sgd_coslr-10e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)
