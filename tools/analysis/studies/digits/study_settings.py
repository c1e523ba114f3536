"""Settings shared by the digits study specs (imported by simclr.py and byol.py)."""
OW = 'optim_wrapper.'

# The paper's GeSSL with the values the study started from; every GeSSL run states its
# changes to these, so a spec does not depend on the configs' (chosen) defaults.
PAPER = {
    'model.ssl_loss_weight': 0.0, OW + 'inner_lr': 0.01, OW + 'inner_params': 'all',
    OW + 'hypergrad': dict(_delete_=True, type='finite_diff', eps=0.01),
    OW + 'clip_grad': None
}
SSL1 = {'model.ssl_loss_weight': 1.0}  # the variant: KL + the SSL loss at theta
CLIP = {OW + 'clip_grad': dict(max_norm=10)}
CLIP30 = {OW + 'clip_grad': dict(max_norm=30)}
ALPHA = {OW + 'inner_lr': 0.1}
ALPHA03 = {OW + 'inner_lr': 0.3}
T05 = {'model.task_head.temperature': 0.5}
B32 = {'data_preprocessor.task_size': 32, OW + 'tasks_per_update': 1}


def hypergrad(method: str) -> dict:
    return {OW + 'hypergrad': dict(_delete_=True, type=method)}


REVERSE = hypergrad('reverse')


def method_runs(gessl_config: str):
    """``gessl(name, *groups, **options)``: a run of ``gessl_config`` = PAPER + changes."""

    def gessl(name, *groups, **options):
        merged = dict(PAPER)
        for group in groups:
            merged.update(group)
        merged.update(options)
        return dict(name=name, config=gessl_config, options=merged)

    return gessl
