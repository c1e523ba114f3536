# BYOL + GeSSL on the digits. Same data, network and epochs as the plain twin
# byol_resnet18-narrow_1xb32-10e_digits.py; GeSSL wraps the model and the optimizer.
_base_ = './byol_resnet18-narrow_1xb32-10e_digits.py'
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='GeSSL',
    base={{_base_.model}},
    task_head=dict(type='PrototypeTaskHead', temperature=0.1),
    outer_loss='kl')
# A batch of 32 images = 2 tasks of 16 (the paper's B = 16).
data_preprocessor = dict(type='TaskDataPreprocessor', task_size=16, num_support_views=2)
optim_wrapper = dict(
    _delete_=True,
    type='BiLevelOptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),  # beta
    inner_lr=0.01,  # alpha
    inner_steps=1,  # K
    target_steps=10,  # lambda
    # n = 2: one outer update per batch. The paper's n = 8 would give the 1,437 digits only
    # 11 updates an epoch.
    tasks_per_update=2,
    hypergrad=dict(type='finite_diff', eps=0.01),
    inner_params='all')
# Under --launcher pytorch/slurm: each rank learns its own tasks, the hypergradient is
# averaged once per outer update (see docs/design.md).
model_wrapper_cfg = dict(type='GeSSLDistributedWrapper')
