# The digits study of GeSSL around BYOL: `python tools/analysis/study.py THIS_FILE`.
# The settings that mattered for SimCLR (simclr.py beside this file), checked on BYOL.
# Results: docs/benchmarks.md, "What makes GeSSL work on the digits".
from .study_settings import ALPHA03, CLIP, CLIP30, OW, PAPER, REVERSE, SSL1, method_runs

PLAIN = 'configs/byol/byol_resnet18-narrow_1xb32-10e_digits.py'
GESSL = 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_digits.py'

HEADS = {OW + 'inner_params': ['neck', 'head']}  # the fast mode (BYOL's predictor is `head`)
FINITE_DIFF = {OW + 'hypergrad': PAPER[OW + 'hypergrad']}
gessl = method_runs(GESSL)

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
