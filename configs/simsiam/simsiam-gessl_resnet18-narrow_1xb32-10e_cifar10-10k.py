# SimSiam + GeSSL in the CPU-scale CIFAR-10 protocol (the paper's Table 1 shrunk to 2 cores;
# see ../_base_/datasets/cifar10-10k_ssl.py). Same data, network and epochs as the plain twin
# simsiam_resnet18-narrow_1xb32-10e_cifar10-10k.py; GeSSL wraps the model and the optimizer
# with ../_base_/gessl_cifar10-10k.py (reasons there). Paper scale (GPU):
# simsiam-gessl_resnet18_1xb128-coslr-200e_cifar10.py.
_base_ = ['./simsiam_resnet18-narrow_1xb32-10e_cifar10-10k.py', '../_base_/gessl_cifar10-10k.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper,
                     paramwise_cfg=_base_.optim_wrapper.paramwise_cfg,
                     # heads-only, the projector and the predictor: +4.7 / +5.2 points of
                     # 5-NN / linear over the twin on `val` at 8x its time; the predictor
                     # alone gained nothing (docs/benchmarks.md, "SimSiam on `val`")
                     inner_params=['neck', 'head'])
