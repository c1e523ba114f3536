# The digits study of GeSSL around SimCLR: `python tools/analysis/study.py THIS_FILE`.
# Each run: the GeSSL digits config with overrides (dotted keys, as --cfg-options), or the
# plain twin. Results: docs/benchmarks.md, "What makes GeSSL work on the digits".
PLAIN = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py'
GESSL = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py'
OW = 'optim_wrapper.'


def gessl(name, **options):
    return dict(name=name, config=GESSL, options=options)


runs = [
    dict(name='plain', config=PLAIN, options={}),
    gessl('kl'),  # the paper's objective with the config's values
    gessl('kl+ssl1', **{'model.ssl_loss_weight': 1.0}),
    gessl('kl_first-order', **{OW + 'hypergrad': dict(type='first_order')}),
    gessl('kl_heads', **{OW + 'inner_params': ['neck']}),
    gessl('kl+ssl1_heads', **{'model.ssl_loss_weight': 1.0, OW + 'inner_params': ['neck']}),
    gessl('kl_reverse', **{OW + 'hypergrad': dict(type='reverse')}),
    gessl('kl_alpha0.1', **{OW + 'inner_lr': 0.1}),
    gessl('kl+ssl1_alpha0.1', **{'model.ssl_loss_weight': 1.0, OW + 'inner_lr': 0.1}),
    gessl('kl_beta0.5', **{OW + 'optimizer.lr': 0.5}),
    gessl('kl_T0.5', **{'model.task_head.temperature': 0.5}),
    gessl('mse', **{'model.outer_loss': 'mse'}),
    gessl('ce', **{'model.outer_loss': 'ce'}),
    gessl('wasserstein', **{'model.outer_loss': 'wasserstein'}),
    gessl('kl_lambda5', **{OW + 'target_steps': 5}),
    gessl('kl_K2', **{OW + 'inner_steps': 2}),
    gessl('kl_n1', **{OW + 'tasks_per_update': 1}),
    gessl('kl_B32', **{'data_preprocessor.task_size': 32, OW + 'tasks_per_update': 1}),
]
