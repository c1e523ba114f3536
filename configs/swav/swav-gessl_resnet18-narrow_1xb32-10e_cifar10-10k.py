# SwAV + GeSSL in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores;
# see ../_base_/datasets/cifar10-10k_ssl.py). Same data, network and epochs as the plain twin
# swav_resnet18-narrow_1xb32-10e_cifar10-10k.py; GeSSL wraps the model and the optimizer
# with ../_base_/gessl_cifar10-10k.py (reasons there). Paper scale (GPU):
# swav-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = ['./swav_resnet18-narrow_1xb32-10e_cifar10-10k.py', '../_base_/gessl_cifar10-10k.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper,
                     inner_params=['neck', 'head'])  # heads-only: projection head and prototypes
# mmpretrain's SwAVHook reads `model.head`, which GeSSL keeps as `model.base.head`
# (docs/configs.md); the plain twin uses it.
custom_hooks = [h for h in _base_.custom_hooks if h['type'] != 'SwAVHook']
