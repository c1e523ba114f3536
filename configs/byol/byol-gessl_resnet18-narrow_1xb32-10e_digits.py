# BYOL + GeSSL on the digits. Same data, network and epochs as the plain twin
# byol_resnet18-narrow_1xb32-10e_digits.py; GeSSL wraps the model and the optimizer with
# the values of the digits study (../_base_/gessl_digits.py, reasons there).
_base_ = ['./byol_resnet18-narrow_1xb32-10e_digits.py', '../_base_/gessl_digits.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper,
                     inner_params=['neck', 'head'])  # heads-only: projector and predictor
