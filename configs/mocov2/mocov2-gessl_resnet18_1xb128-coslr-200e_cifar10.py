# MoCo v2 + GeSSL, ResNet-18 on CIFAR-10 (paper Table 1): the network, data and schedule
# of the plain twin (first base); GeSSL wraps the model and the optimizer with the
# defaults (../_base_/gessl.py; the paper's: gessl_paper.py) and reads 5 views per image.
_base_ = ['./mocov2_resnet18_1xb128-coslr-200e_cifar10.py', '../_base_/gessl.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper)
train_dataloader = dict(dataset=dict(pipeline=_base_.gessl_train_pipeline))
