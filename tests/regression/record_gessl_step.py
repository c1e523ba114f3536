"""Record GeSSL's training step on the tiny bases, for the bit-for-bit regression test.

Runs every base method x hypergradient method x inner-loop mode (the whole network, or the
heads only), plus variants of the options that take other paths through the step, for a few
outer updates, through the public interface only (``MODELS.build``, ``build_optim_wrapper``,
``GeSSL.train_step``), and saves each run's final state dict, its logged values and the error
that stopped it, if any::

    python tests/regression/record_gessl_step.py OUT.pt [--package-root DIR]

``--package-root`` puts another checkout's ``gessl_mm`` first on ``sys.path``: the test runs
this script once with the reference commit's package and once with the working tree's.
One thread, so that the two recordings share their float reduction order.
"""
import argparse
import copy
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
METHODS = ('first_order', 'reverse', 'finite_diff', 'neumann', 'cg')
ITERATIONS = 3  # batches of 8 images: 2 tasks of 4, one outer update per batch
HEADS = {'MAE': ['neck']}  # the parameters the heads-only mode adapts (default: neck, head)
# The implicit methods refuse alpha = 0.01 on these tiny models (alpha ||H|| > 1, see
# tests/models/test_robustness.py): they train at these, and the variants below record the
# refusals.
IMPLICIT_INNER_LR = {'MoCoV3': 1e-9, None: 1e-7}


def runs() -> dict:
    """name -> (base, model options, optim_wrapper options, batch options)."""
    from helpers import TINY_BASES
    table = {}
    for base in TINY_BASES:
        for method in METHODS:
            for mode in ('whole', 'heads'):
                wrapper = dict(hypergrad=dict(type=method))
                if method in ('neumann', 'cg'):
                    wrapper['inner_lr'] = IMPLICIT_INNER_LR.get(base, IMPLICIT_INNER_LR[None])
                if mode == 'heads':
                    wrapper['inner_params'] = HEADS.get(base, ['neck', 'head'])
                table[f'{base}-{method}-{mode}'] = (base, {}, wrapper, {})
    heads = dict(inner_params=['neck', 'head'])
    for base in ('SimCLR', 'BYOL', 'MoCoV2'):
        table.update({
            f'{base}-linear_head-ssl1': (base, dict(task_head=dict(type='LinearTaskHead'),
                                                    ssl_loss_weight=1.0), {}, {}),
            f'{base}-heads-reverse-ssl1': (base, dict(ssl_loss_weight=1.0),
                                           dict(heads, hypergrad=dict(type='reverse')), {}),
            f'{base}-heads-no_cache': (base, dict(cache_frozen_modules=False), heads, {}),
        })
    table.update({
        'SimCLR-fd_forward': ('SimCLR', {}, dict(hypergrad=dict(type='finite_diff',
                                                                eps=0.02, scheme='forward')), {}),
        'SimCLR-fd_forward-ssl1': ('SimCLR', dict(ssl_loss_weight=0.5),
                                   dict(hypergrad=dict(type='finite_diff', scheme='forward')),
                                   {}),
        'SimCLR-neumann-terms3': ('SimCLR', {}, dict(hypergrad=dict(type='neumann', terms=3)),
                                  {}),
        'SimCLR-cg-iters3': ('SimCLR', {}, dict(hypergrad=dict(type='cg', iters=3, tol=1e-4)),
                             {}),
        'SimCLR-mse': ('SimCLR', dict(outer_loss='mse'), {}, {}),
        'SimCLR-ce': ('SimCLR', dict(outer_loss='ce'), {}, {}),
        'SimCLR-wasserstein': ('SimCLR', dict(outer_loss='wasserstein'), {}, {}),
        'SimCLR-n3': ('SimCLR', {}, dict(tasks_per_update=3), {}),  # updates span batches
        'SimCLR-n3-heads': ('SimCLR', {}, dict(heads, tasks_per_update=3), {}),
        'SimCLR-4views': ('SimCLR', {}, {}, dict(num_views=4)),
        'SimCLR-4views-heads': ('SimCLR', {}, heads, dict(num_views=4)),
        'SimCLR-K1-lambda1': ('SimCLR', {}, dict(inner_steps=1, target_steps=1), {}),
        'SimCLR-unclipped': ('SimCLR', {}, dict(clip_grad=None), {}),
        'SimCLR-bf16': ('SimCLR', {}, dict(amp=True), {}),
        'MoCoV2-linear_head-heads': ('MoCoV2', dict(task_head=dict(type='LinearTaskHead')),
                                     heads, {}),
        'SwAV-4views-heads': ('SwAV', {}, heads, dict(num_views=4)),
        'DINO-4views-heads': ('DINO', {}, heads, dict(num_views=4)),
    })
    return table


def record(base, model_options, wrapper_options, batch_options) -> dict:
    from helpers import PREPROCESSOR, SIZE, TINY_BASES, make_batch
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import set_random_seed
    from mmpretrain.registry import MODELS

    set_random_seed(0)
    MessageHub.get_current_instance().update_info('max_iters', 100)  # CosineEMA reads it
    cfg = dict(type='GeSSL', base=copy.deepcopy(TINY_BASES[base]),
               data_preprocessor=dict(task_size=4, **PREPROCESSOR))
    if base == 'MAE':
        cfg['task_head'] = dict(type='PrototypeTaskHead', feature='backbone')
    cfg.update(model_options)
    model = MODELS.build(cfg)
    model.init_weights()
    wrapper = build_optim_wrapper(model, dict(dict(
        type='BiLevelOptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                                   weight_decay=1e-4),
        inner_lr=0.01, inner_steps=2, target_steps=3, tasks_per_update=2,
        clip_grad=dict(max_norm=10)), **wrapper_options))
    logs, error = [], None
    for i in range(ITERATIONS):
        batch = make_batch(batch_size=8, size=SIZE, seed=i, **batch_options)
        try:
            log_vars = model.train_step(batch, wrapper)
        except FloatingPointError as exc:  # NonFiniteError and HypergradientError
            error = f'{type(exc).__name__}: {exc}'
            break
        logs.append({k: v.detach().clone() for k, v in log_vars.items()
                     if not k.startswith('time_')})
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    return dict(state=state, logs=logs, error=error, grads=grads,
                hypergrad_norm=MessageHub.get_current_instance().get_scalar(
                    'train/hypergrad_norm').current() if error is None else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--package-root', help="a checkout whose gessl_mm to record")
    parser.add_argument('--only', nargs='+', help='record these runs only')
    args = parser.parse_args()
    sys.path.insert(0, osp.dirname(HERE))  # tests/, for helpers
    if args.package_root:
        sys.path.insert(0, osp.abspath(args.package_root))
    import torch
    torch.set_num_threads(1)
    import gessl_mm
    table = runs()
    names = args.only or list(table)
    results = {'package': osp.dirname(osp.abspath(gessl_mm.__file__))}
    for name in names:
        results[name] = record(*table[name])
    torch.save(results, args.out)


if __name__ == '__main__':
    main()
