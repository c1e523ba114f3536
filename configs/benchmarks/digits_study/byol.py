# The digits study of GeSSL around BYOL: `python tools/analysis/study.py THIS_FILE`.
# The settings that mattered for SimCLR (simclr.py beside this file), checked on BYOL.
# Results: docs/benchmarks.md, "What makes GeSSL work on the digits".
PLAIN = 'configs/byol/byol_resnet18-narrow_1xb32-10e_digits.py'
GESSL = 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_digits.py'
OW = 'optim_wrapper.'
HEADS = {OW + 'inner_params': ['neck', 'head']}  # the fast mode (BYOL's predictor is `head`)
CLIP = {OW + 'clip_grad': dict(max_norm=10)}
ALPHA = {OW + 'inner_lr': 0.1}
T05 = {'model.task_head.temperature': 0.5}
B32 = {'data_preprocessor.task_size': 32, OW + 'tasks_per_update': 1}
REVERSE = {OW + 'hypergrad': dict(_delete_=True, type='reverse')}
FINITE_DIFF = {OW + 'hypergrad': dict(_delete_=True, type='finite_diff', eps=0.01)}


def gessl(name, *groups, **options):
    for group in groups:
        options = {**group, **options}
    return dict(name=name, config=GESSL, options=options)


runs = [
    dict(name='plain', config=PLAIN, options={}),
    gessl('kl', FINITE_DIFF),  # the paper's objective and hypergradient, config's values
    gessl('kl_heads', HEADS, FINITE_DIFF),
    gessl('kl_heads_reverse_alpha0.1_clip10', HEADS, REVERSE, CLIP, ALPHA),
    gessl('kl_heads_reverse_alpha0.1_clip10_T0.5', HEADS, REVERSE, CLIP, ALPHA, T05),
    gessl('kl_heads_reverse_alpha0.1_clip10_T0.5_B32', HEADS, REVERSE, CLIP, ALPHA, T05, B32),
]
