# The paper's GeSSL defaults, shared by every GeSSL config of the benchmark datasets.
#
# A GeSSL config lists this file after its plain twin and reads the `gessl_*` values through
# `_base_` (they are not merged into `model` / `optim_wrapper` by themselves; the
# `model_wrapper_cfg` at the end applies as it is):
#
#   _base_ = ['./simclr_resnet18_1xb128-coslr-200e_cifar10.py', '../_base_/gessl.py']
#   model = dict(_delete_=True, type='GeSSL', base=_base_.model, **_base_.gessl_model)
#   data_preprocessor = _base_.gessl_data_preprocessor
#   optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper)
#   train_dataloader = dict(dataset=dict(pipeline=_base_.gessl_train_pipeline))
#
# Where each value comes from (paper sections; "ours" where the paper gives none):
#   K = 1 inner step, lambda = 10 ............................ §6.2, §6.3, Table 6
#   B = 16 images (classes) per task .......................... App. C, G.5
#   5 augmented views per image ............................... App. C: the dataset base's
#       `gessl_train_pipeline`; the first 2 (support) feed the base method's own loss in
#       the inner loop, the other 3 (query) the outer loss
#   n = 8 tasks per outer update .............................. App. G.5 (Figure 8)
#   outer optimiser SGD, momentum 0.9, weight decay 1e-4 ...... App. C, §6.5
#   hypergradient: AID with finite differences (AID-FD) ....... §6.6, App. G.4
#   outer loss: KL divergence to the self-motivated target .... §4.3, §6.6, App. G.3
#   task head: a B-way linear (softmax) classifier ............ App. C ("a classification head")
#   beta = 0.05 (outer lr), alpha = 0.01 (inner lr) ........... ours (the paper gives none)
#   clip_grad=dict(max_norm=10) on the summed hypergradient ... ours (the paper gives none),
#       see below
#
# The digits study (docs/benchmarks.md) found these defaults learning worse than the plain
# method on a CPU-sized problem, and the digits configs use what it chose instead:
# inner_params=['neck'] (heads-only, ~14x cheaper), hypergrad=dict(type='reverse'),
# inner_lr=0.3, clip_grad=dict(max_norm=10), model.ssl_loss_weight=1.0. Whether that carries
# over to these benchmarks is not measured yet, so the paper's values stay here, except for
# one safety setting: the clipping. Unclipped, the paper's finite-difference hypergradients
# reach norms of 100-1,000 in the first updates (up to 10^4-10^5 on small networks) and
# wreck the network; the digits study's paper setting went from 5-NN 0.725 unclipped to
# 0.958 with max_norm=10 (`kl` vs `kl_clip10`). The paper's exact, unclipped setting:
# `--cfg-options optim_wrapper.clip_grad=None` (GeSSL then warns about steps that are large
# against the weights).
gessl_model = dict(
    task_head=dict(type='LinearTaskHead', temperature=0.1),
    outer_loss='kl')
# Merged with the twin's top-level SelfSupDataPreprocessor (mean, std, to_rgb are kept).
gessl_data_preprocessor = dict(type='TaskDataPreprocessor', task_size=16, num_support_views=2)
gessl_optim_wrapper = dict(
    type='BiLevelOptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),  # beta
    inner_lr=0.01,  # alpha
    inner_steps=1,  # K
    target_steps=10,  # lambda
    tasks_per_update=8,  # n
    hypergrad=dict(type='finite_diff', eps=0.01),
    inner_params='all',
    clip_grad=dict(max_norm=10))  # not the paper's: see above
# Multi-GPU: each rank learns its own tasks and the hypergradient is averaged once per outer
# update (GeSSLDistributedWrapper, README "Multi-GPU training"). `tasks_per_update` counts
# tasks per rank.
model_wrapper_cfg = dict(type='GeSSLDistributedWrapper')
