# The digits study of GeSSL around BYOL: `python tools/analysis/study.py THIS_FILE`.
# The settings that mattered for SimCLR (simclr.py beside this file), checked on BYOL.
# Results: docs/benchmarks.md, "What makes GeSSL work on the digits".
PLAIN = 'configs/byol/byol_resnet18-narrow_1xb32-10e_digits.py'
GESSL = 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_digits.py'
OW = 'optim_wrapper.'
HEADS = {OW + 'inner_params': ['neck', 'head']}  # the fast mode (BYOL's predictor is `head`)
CLIP = {OW + 'clip_grad': dict(max_norm=10)}
REVERSE = {OW + 'hypergrad': dict(_delete_=True, type='reverse')}
FINITE_DIFF = {OW + 'hypergrad': dict(_delete_=True, type='finite_diff', eps=0.01)}


# The paper's GeSSL with the values the study started from; every GeSSL run states its
# changes to these, so the spec does not depend on the config's (chosen) defaults.
PAPER = {
    'model.ssl_loss_weight': 0.0, OW + 'inner_lr': 0.01, OW + 'inner_params': 'all',
    OW + 'hypergrad': dict(_delete_=True, type='finite_diff', eps=0.01),
    OW + 'clip_grad': None
}


def gessl(name, *groups, **options):
    merged = dict(PAPER)
    for group in groups:
        merged.update(group)
    merged.update(options)
    return dict(name=name, config=GESSL, options=merged)


ALPHA03 = {OW + 'inner_lr': 0.3}
SSL1 = {'model.ssl_loss_weight': 1.0}
CLIP30 = {OW + 'clip_grad': dict(max_norm=30)}

runs = [
    dict(name='plain', config=PLAIN, options={}),
    gessl('kl_heads', HEADS, FINITE_DIFF),
    gessl('kl_heads_reverse_alpha0.3_clip30', HEADS, REVERSE, ALPHA03, CLIP30),
    gessl('kl+ssl1_heads_reverse_alpha0.3_clip10', SSL1, HEADS, REVERSE, ALPHA03, CLIP),
    gessl('kl+ssl1_heads_reverse_alpha0.3_clip30', SSL1, HEADS, REVERSE, ALPHA03, CLIP30),
    dict(name='plain_lr0.025', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.025}),
    dict(name='plain_lr0.1', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.1}),
    dict(name='plain_lr0.2', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.2}),
    dict(name='plain_lr0.4', config=PLAIN, options={'optim_wrapper.optimizer.lr': 0.4}),
    gessl('kl', FINITE_DIFF),  # the paper's objective and hypergradient, config's values
]
