# MoCo v2 + GeSSL in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores;
# see ../_base_/datasets/cifar10-10k_ssl.py). Same data, network and epochs as the plain twin
# mocov2_resnet18-narrow_1xb32-10e_cifar10-10k.py; GeSSL wraps the model and the optimizer
# with ../_base_/gessl_cifar10-10k.py (reasons there). Paper scale (GPU):
# mocov2-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = ['./mocov2_resnet18-narrow_1xb32-10e_cifar10-10k.py', '../_base_/gessl_cifar10-10k.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper,
                     inner_params=['neck'])  # heads-only: the projection head
# beta 0.01, the twin's lr, not the shared 0.05: on `val` (seed 0, 5 epochs) beta 0.05 fell
# below MoCo's initialisation as the twin's lr 0.05 had, and beta 0.01 gave 0.317 / 0.375
# 5-NN / linear against the twin's 0.305 / 0.338 (tools/analysis/studies/cifar10/mocov2.py).
optim_wrapper['optimizer'] = dict(optim_wrapper['optimizer'], lr=0.01)
