# The digits study of GeSSL around SimCLR: `python tools/analysis/study.py THIS_FILE`.
# Each run: the GeSSL digits config with overrides (dotted keys, as --cfg-options), or the
# plain twin. Results: docs/benchmarks.md, "What makes GeSSL work on the digits".
from .study_settings import (
    ALPHA,
    ALPHA03,
    B32,
    CLIP,
    OW,
    REVERSE,
    SSL1,
    T05,
    hypergrad,
    method_runs,
)

PLAIN = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py'
GESSL = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py'

HEADS = {OW + 'inner_params': ['neck']}  # the fast mode: the backbone runs once per task
gessl = method_runs(GESSL)

runs = [
    dict(name='plain', config=PLAIN, options={}),
    # the paper's objective (pure KL) with the config's values, full and heads-only
    gessl('kl'),
    gessl('kl_heads', HEADS),
    # the variant
    gessl('kl+ssl1', SSL1),
    gessl('kl+ssl1_heads', SSL1, HEADS),
    # one knob at a time, heads-only (cheap)
    gessl('kl_heads_first-order', HEADS, hypergrad('first_order')),
    gessl('kl_heads_reverse', HEADS, hypergrad('reverse')),
    gessl('kl_heads_clip10', HEADS, CLIP),
    gessl('kl_heads_alpha0.1', HEADS, **{OW + 'inner_lr': 0.1}),
    gessl('kl_heads_alpha0.1_clip10', HEADS, CLIP, **{OW + 'inner_lr': 0.1}),
    gessl('kl_heads_beta0.2', HEADS, **{OW + 'optimizer.lr': 0.2}),
    gessl('kl_heads_T0.5', HEADS, **{'model.task_head.temperature': 0.5}),
    gessl('mse_heads', HEADS, **{'model.outer_loss': 'mse'}),
    gessl('ce_heads', HEADS, **{'model.outer_loss': 'ce'}),
    gessl('wasserstein_heads', HEADS, **{'model.outer_loss': 'wasserstein'}),
    gessl('kl_heads_lambda5', HEADS, **{OW + 'target_steps': 5}),
    gessl('kl_heads_K2', HEADS, **{OW + 'inner_steps': 2}),
    gessl('kl_heads_n1', HEADS, **{OW + 'tasks_per_update': 1}),
    gessl('kl_heads_B32', HEADS, **{'data_preprocessor.task_size': 32,
                                    OW + 'tasks_per_update': 1}),
    gessl('kl_heads_4views', HEADS, **{'train_dataloader.dataset.pipeline.0.num_views': 4}),
    gessl('kl_heads_linear-head', HEADS, **{'model.task_head': dict(
        _delete_=True, type='LinearTaskHead', temperature=0.1)}),
    gessl('kl+ssl1_heads_clip10', SSL1, HEADS, CLIP),
    # full mode
    gessl('kl_first-order', hypergrad('first_order')),
    gessl('kl_reverse', hypergrad('reverse')),
    gessl('kl_clip10', CLIP),
    gessl('kl+ssl1_clip10', SSL1, CLIP),
    gessl('kl_alpha0.1_clip10', CLIP, **{OW + 'inner_lr': 0.1}),
    # second round: the knobs that helped, combined (heads-only, exact hypergradient)
    gessl('kl_heads_reverse_clip10', HEADS, REVERSE, CLIP),
    gessl('kl_heads_reverse_alpha0.1_clip10', HEADS, REVERSE, CLIP, ALPHA),
    gessl('kl_heads_reverse_alpha0.3_clip10', HEADS, REVERSE, CLIP, **{OW + 'inner_lr': 0.3}),
    gessl('kl_heads_reverse_alpha0.1_clip10_T0.5', HEADS, REVERSE, CLIP, ALPHA, T05),
    gessl('kl_heads_reverse_alpha0.1_clip10_B32', HEADS, REVERSE, CLIP, ALPHA, B32),
    gessl('kl_heads_reverse_alpha0.1_clip10_T0.5_B32', HEADS, REVERSE, CLIP, ALPHA, T05, B32),
    gessl('kl+ssl1_heads_reverse_alpha0.1_clip10', SSL1, HEADS, REVERSE, CLIP, ALPHA),
    gessl('kl_heads_alpha0.1_clip10_T0.5_B32', HEADS, CLIP, ALPHA, T05, B32),
    gessl('kl_reverse_alpha0.1_clip10', REVERSE, CLIP, ALPHA),
    # third round: around the best of the second (alpha 0.3)
    gessl('kl_heads_reverse_alpha1_clip10', HEADS, REVERSE, CLIP, **{OW + 'inner_lr': 1.0}),
    gessl('kl_heads_reverse_alpha0.3_clip30', HEADS, REVERSE, ALPHA03,
          **{OW + 'clip_grad': dict(max_norm=30)}),
    gessl('kl_heads_reverse_alpha0.3_clip10_beta0.1', HEADS, REVERSE, CLIP, ALPHA03,
          **{OW + 'optimizer.lr': 0.1}),
    gessl('kl+ssl1_heads_reverse_alpha0.3_clip10', SSL1, HEADS, REVERSE, CLIP, ALPHA03),
    gessl('kl+ssl0.1_heads_reverse_alpha0.3_clip10', HEADS, REVERSE, CLIP, ALPHA03,
          **{'model.ssl_loss_weight': 0.1}),
    gessl('kl_heads_reverse_alpha0.3_clip10_B32', HEADS, REVERSE, CLIP, ALPHA03, B32),
    gessl('mse_heads_reverse_alpha0.3_clip10', HEADS, REVERSE, CLIP, ALPHA03,
          **{'model.outer_loss': 'mse'}),
    gessl('kl_heads_reverse_alpha0.3_clip10_lambda5', HEADS, REVERSE, CLIP, ALPHA03,
          **{OW + 'target_steps': 5}),
    gessl('kl_heads_reverse_alpha0.3_clip10_n4', HEADS, REVERSE, CLIP, ALPHA03,
          **{OW + 'tasks_per_update': 4}),
    # the plain twin's own learning rate, tuned on the same split (fair comparison)
    dict(name='plain_lr0.1', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.1}),
    dict(name='plain_lr0.2', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.2}),
    dict(name='plain_lr0.025', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.025}),
    # fourth round: the two finalists' neighbours
    gessl('kl+ssl1_heads_reverse_alpha0.3_clip30', SSL1, HEADS, REVERSE, ALPHA03,
          **{OW + 'clip_grad': dict(max_norm=30)}),
    gessl('kl_heads_reverse_alpha0.3_clip100', HEADS, REVERSE, ALPHA03,
          **{OW + 'clip_grad': dict(max_norm=100)}),
    gessl('kl+ssl1_heads_reverse_alpha0.1_clip30', SSL1, HEADS, REVERSE, ALPHA,
          **{OW + 'clip_grad': dict(max_norm=30)}),
    gessl('kl+ssl1_heads_alpha0.3_clip10', SSL1, HEADS, CLIP, ALPHA03),  # finite_diff
]
