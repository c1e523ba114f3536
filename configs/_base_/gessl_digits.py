# GeSSL on the digits: the values the digits study chose on its validation split
# (tools/analysis/studies/digits/, docs/benchmarks.md "What makes GeSSL work on the
# digits"), shared by configs/{simclr,byol}/*-gessl_resnet18-narrow_1xb32-10e_digits.py.
# The paper's own defaults (_base_/gessl_paper.py: pure KL, finite differences, the whole network
# in the inner loop, alpha 0.01, no clipping) learned worse than the plain methods there.
gessl_model = dict(
    task_head=dict(type='PrototypeTaskHead', temperature=0.1),
    outer_loss='kl',
    # The variant that keeps the base method's loss at theta beside the KL (weight 1): best
    # of the study; the paper's pure KL (0) is the runner-up, reported beside it.
    ssl_loss_weight=1.0)
# A batch of 32 images = 2 tasks of 16 (the paper's B = 16).
gessl_data_preprocessor = dict(type='TaskDataPreprocessor', task_size=16, num_support_views=2)
gessl_optim_wrapper = dict(
    type='BiLevelOptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),  # beta
    # alpha: 0.3 > 0.1 > 0.01 in the study (a small alpha leaves the target next to the
    # adapted model and the KL without signal; 1.0 overshoots).
    inner_lr=0.3,
    inner_steps=1,  # K
    target_steps=10,  # lambda (5 was worse)
    # n = 2: one outer update per batch. The paper's n = 8 would give the 1,437 digits only
    # 11 updates an epoch (n = 4 was worse).
    tasks_per_update=2,
    # Exact hypergradient: finite differences of a ReLU network's gradients in float32 are
    # mostly noise (docs/benchmarks.md), and in the heads-only mode `reverse` is cheap.
    hypergrad=dict(type='reverse'),
    # `inner_params` is set per method (the heads' names differ): the heads-only (fast)
    # mode, where the inner loop adapts the heads and the backbone runs once per task and
    # gets its exact hypergradient (better than the whole network in the study, ~1.2 plain
    # steps per task instead of ~14).
    # The first updates' hypergradients reach norms of 100-1,000 and wreck the network
    # unclipped.
    clip_grad=dict(max_norm=10))
# Under --launcher pytorch/slurm: each rank learns its own tasks, the hypergradient is
# averaged once per outer update (see docs/design.md).
model_wrapper_cfg = dict(type='GeSSLDistributedWrapper')
