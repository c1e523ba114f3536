"""Settings shared by the CIFAR-10 study specs (imported by simclr.py, byol.py, final.py).

Every GeSSL run states its whole setting: one of the two starting points below plus its
changes, so that a spec's results do not move when the configs' defaults do (the study is
what sets them).
"""
OW = 'optim_wrapper.'
VIEWS = 'train_dataloader.dataset.pipeline.0.num_views'  # the MultiView transform

# The digits study's choice (configs/_base_/gessl_digits.py), the CPU configs' start.
DIGITS = {
    'model.task_head': dict(_delete_=True, type='PrototypeTaskHead', temperature=0.1),
    'model.outer_loss': 'kl', 'model.ssl_loss_weight': 1.0,
    OW + 'optimizer.lr': 0.05, OW + 'inner_lr': 0.3, OW + 'inner_steps': 1,
    OW + 'target_steps': 10, OW + 'tasks_per_update': 2,
    OW + 'hypergrad': dict(_delete_=True, type='reverse'), OW + 'clip_grad': dict(max_norm=10),
    'data_preprocessor.task_size': 16, 'data_preprocessor.num_support_views': 2, VIEWS: 2,
}
# The paper's defaults (configs/_base_/gessl.py): the linear task head, pure KL, AID-FD,
# the whole network in the inner loop, alpha 0.01, no clipping, n = 8, 5 views (2 support +
# 3 query). n = 8 tasks of 16 is one outer update per 4 batches of 32 here.
PAPER = {
    'model.task_head': dict(_delete_=True, type='LinearTaskHead', temperature=0.1),
    'model.outer_loss': 'kl', 'model.ssl_loss_weight': 0.0,
    OW + 'optimizer.lr': 0.05, OW + 'inner_lr': 0.01, OW + 'inner_steps': 1,
    OW + 'target_steps': 10, OW + 'tasks_per_update': 8,
    OW + 'hypergrad': dict(_delete_=True, type='finite_diff', eps=0.01), OW + 'clip_grad': None,
    'data_preprocessor.task_size': 16, 'data_preprocessor.num_support_views': 2, VIEWS: 5,
    OW + 'inner_params': 'all',
}
WHOLE = {OW + 'inner_params': 'all'}  # the whole network in the inner loop (~12x the cost)


def gessl_runs(config: str, heads: list):
    """``(digits, paper)``: functions ``(name, *groups, **options)`` -> a run of ``config``.

    ``digits`` starts from :data:`DIGITS` with the heads-only inner loop on ``heads`` (the
    method's head modules), ``paper`` from :data:`PAPER`; ``groups`` (dicts) and
    ``options`` (dotted keys) are the run's changes, applied in order.
    """

    def make(start: dict):
        def run(name: str, *groups: dict, **options) -> dict:
            merged = dict(start)
            for group in (*groups, options):
                merged.update(group)
            return dict(name=name, config=config, options=merged)
        return run

    return make({**DIGITS, OW + 'inner_params': list(heads)}), make(PAPER)


def plain_runs(config: str, lrs=(0.025, 0.1)) -> list:
    """The plain twin at its config's lr, at each of ``lrs`` (a fair comparison tunes the
    twin's lr on the same split), and with GeSSL's gradient clipping (max_norm 10: a
    control that separates GeSSL's objective from the clipping it comes with)."""
    return [dict(name='plain', config=config, options={})] + [
        dict(name=f'plain_lr{lr}', config=config, options={OW + 'optimizer.lr': lr})
        for lr in lrs] + [
        dict(name='plain_clip10', config=config, options={OW + 'clip_grad': dict(max_norm=10)})]
