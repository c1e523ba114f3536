"""Time and memory of a GeSSL training step against its plain twin.

``python tools/analysis/benchmark.py CONFIG [--iters N] [--device cpu|cuda] [sweeps]``

Each measurement runs in its own process (clean peak memory): a warm-up, then the median of
``--iters`` steps on one task (``task_size`` images x 2 views of random pixels). The plain
twin is the wrapped algorithm (``model.base``) trained by a plain ``OptimWrapper`` with the
same outer optimizer on the same images. The table gives seconds per task and per outer
update (``tasks_per_update`` tasks), images per second, peak memory (RSS on CPU,
``torch.cuda.max_memory_allocated`` on CUDA), GeSSL's split between
inner (with the heads-only mode's backbone forward), target, outer (the outer loss's forward
and backward) and hypergradient (the rest: finite differences, the heads-only mode's backbone
backward), the ratio to the plain step and the pass-count bound: one plain forward-backward
times the passes the method must make,
``K + (lambda - 1) + 1 (outer) + 2K (central finite differences; K forward) + 1/3 (target's
pi, forward only)``; it applies to the full mode (``inner_params='all'``) only.

Sweeps (comma-separated values, every combination is measured)::

    --hypergrad finite_diff,finite_diff:forward,reverse --inner-steps 1,2 --target-steps 5,10
    --task-size 16,32 --inner-params all,neck --channels-last 0,1 --compile 0,1

``--channels-last`` and ``--compile`` apply to the plain twin as well (its backbone compiled,
its weights and images channels-last); the compilation happens in the warm-up steps.

Results also go to JSON (``--out``, default ``work_dirs/benchmark/<config>.json``).
"""
import argparse
import copy
import itertools
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time
from statistics import median

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SWEEPS = dict(hypergrad='hypergrad', inner_steps='inner_steps', target_steps='target_steps',
              task_size='task_size', inner_params='inner_params',
              channels_last='channels_last', compile='compile')
# Sweeps that change the plain twin too (measured once per value).
PLAIN_KEYS = ('task_size', 'channels_last', 'compile')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark a GeSSL step and its plain twin')
    parser.add_argument('config', help='a GeSSL config')
    parser.add_argument('--iters', type=int, default=5, help='timed steps per measurement')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--img-size', type=int, default=32)
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--out', help='JSON output path')
    for name in SWEEPS:
        parser.add_argument('--' + name.replace('_', '-'), help='comma-separated values')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    return parser.parse_args()


def _variant_cfg(cfg, variant: dict):
    """The config of one sweep point."""
    cfg = copy.deepcopy(cfg)
    wrapper = cfg.optim_wrapper
    if 'hypergrad' in variant:  # METHOD or finite_diff:SCHEME
        method, _, scheme = variant['hypergrad'].partition(':')
        wrapper.hypergrad = dict(type=method, **(dict(scheme=scheme) if scheme else {}))
    for key in ('inner_steps', 'target_steps'):
        if key in variant:
            wrapper[key] = int(variant[key])
    if 'inner_params' in variant:
        value = variant['inner_params']
        wrapper.inner_params = 'all' if value == 'all' else value.split('+')
    if 'task_size' in variant:
        cfg.data_preprocessor.task_size = int(variant['task_size'])
    for key in ('channels_last', 'compile'):
        if key in variant:
            cfg.model[key] = bool(int(variant[key]))
    return cfg


def _measure(args: argparse.Namespace, variant: dict, plain: bool) -> dict:
    """One measurement, in this (fresh) process."""
    import torch
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = _variant_cfg(Config.fromfile(args.config), variant)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    MessageHub.get_current_instance().update_info('max_iters', 1000)
    task_size = cfg.data_preprocessor.task_size
    preprocessor = {k: v for k, v in cfg.data_preprocessor.items()
                    if k not in ('type', 'task_size', 'num_support_views')}
    if plain:
        model_cfg = dict(cfg.model.base, data_preprocessor=dict(
            type='SelfSupDataPreprocessor', **preprocessor))
        wrapper_cfg = dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer)
    else:
        model_cfg = dict(cfg.model, data_preprocessor=dict(cfg.data_preprocessor))
        wrapper_cfg = dict(cfg.optim_wrapper, tasks_per_update=1)
    model = MODELS.build(model_cfg).to(args.device)
    model.init_weights()
    model.train()
    channels_last = bool(cfg.model.get('channels_last'))
    if plain and channels_last:
        model.to(memory_format=torch.channels_last)
    if plain and cfg.model.get('compile'):
        model.backbone.compile()
    wrapper = build_optim_wrapper(model, wrapper_cfg)
    size = args.img_size
    images = [torch.randint(0, 256, (task_size, 3, size, size), dtype=torch.uint8)
              for _ in range(2)]
    if plain and channels_last:  # (GeSSL converts its preprocessed inputs itself)
        images = [v.contiguous(memory_format=torch.channels_last) for v in images]
    batch = dict(inputs=images, data_samples=[DataSample() for _ in range(task_size)])

    def sync():
        if args.device == 'cuda':
            torch.cuda.synchronize()

    times, splits = [], []
    for i in range(args.warmup + args.iters):
        if i == args.warmup and args.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        sync()
        start = time.perf_counter()
        log = model.train_step(batch, wrapper)
        sync()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
            if not plain:
                splits.append({k: float(log[k]) for k in ('time_inner', 'time_target',
                                                          'time_outer', 'time_hypergrad')})
    if args.device == 'cuda':
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = dict(seconds_per_task=median(times), peak_mib=peak, task_size=task_size,
                  images_per_second=task_size / median(times))
    if not plain:
        ow = cfg.optim_wrapper
        result.update({k: median(s[k] for s in splits) for k in splits[0]})
        result['tasks_per_update'] = ow.get('tasks_per_update', 8)
        k, lam = ow.get('inner_steps', 1), ow.get('target_steps', 10)
        hypergrad = ow.get('hypergrad', {})
        method = hypergrad.get('type', 'finite_diff')
        per_product = 1 if hypergrad.get('scheme') == 'forward' else 2
        extra = {'finite_diff': per_product * k, 'first_order': 0}.get(method)
        # The bound counts whole-network passes: it does not apply to the heads-only mode.
        if extra is not None and ow.get('inner_params', 'all') == 'all':
            result['pass_count'] = k + lam - 1 + 1 + extra + 1 / 3
        else:
            result['pass_count'] = None
    return result


def _run_worker(args: argparse.Namespace, variant: dict, plain: bool) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), args.config, '--iters', str(args.iters),
           '--warmup', str(args.warmup), '--device', args.device, '--img-size',
           str(args.img_size), '--worker', json.dumps(dict(variant=variant, plain=plain))]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f'measurement {variant} (plain={plain}) failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(rows: list) -> str:
    header = ['variant', 's/task', 's/update', 'img/s', 'peak MiB', 'inner', 'target',
              'outer', 'hypergrad', 'x plain', 'bound', 'x bound', 'mem x plain']
    lines = [header]
    for r in rows:
        g, p = r['gessl'], r['plain']
        ratio = g['seconds_per_task'] / p['seconds_per_task']
        bound = g.get('pass_count')
        lines.append([
            r['name'], f"{g['seconds_per_task']:.3f}",
            f"{g['seconds_per_task'] * g['tasks_per_update']:.2f}",
            f"{g['images_per_second']:.1f}", f"{g['peak_mib']:.0f}",
            f"{g['time_inner']:.3f}", f"{g['time_target']:.3f}", f"{g['time_outer']:.3f}",
            f"{g['time_hypergrad']:.3f}",
            f'{ratio:.2f}', '-' if bound is None else f'{bound:.1f}',
            '-' if bound is None else f'{ratio / bound:.2f}',
            f"{g['peak_mib'] / p['peak_mib']:.2f}"
        ])
    plains = {}
    for r in rows:
        plains.setdefault(r['plain_name'], r['plain'])
    for i, (name, p) in enumerate(plains.items()):
        lines.insert(1 + i, [name, f"{p['seconds_per_task']:.3f}", '-',
                             f"{p['images_per_second']:.1f}", f"{p['peak_mib']:.0f}"] +
                     ['-'] * 8)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ['  '.join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in
                      enumerate(zip(line, widths))) for line in lines]
    text.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(text)


def main() -> None:
    args = parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        print(json.dumps(_measure(args, spec['variant'], spec['plain'])))
        return
    axes = {k: getattr(args, k).split(',') for k in SWEEPS if getattr(args, k)}
    variants = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] or [{}]
    rows, plain_cache = [], {}
    for variant in variants:
        plain_variant = {k: v for k, v in variant.items() if k in PLAIN_KEYS}
        key = json.dumps(plain_variant, sort_keys=True)
        if key not in plain_cache:
            plain_cache[key] = _run_worker(args, plain_variant, True)
        name = ', '.join(f'{k}={v}' for k, v in variant.items()) or 'config'
        print(f'measuring {name} ...', flush=True)
        plain_name = 'plain (same task' + ''.join(f', {k}={v}' for k, v in
                                                  plain_variant.items()) + ')'
        rows.append(dict(name=name, variant=variant, plain=plain_cache[key],
                         plain_name=plain_name, gessl=_run_worker(args, variant, False)))
    print(f'\n{osp.basename(args.config)} on {args.device} '
          f'({args.iters} timed steps after {args.warmup} warm-up, median)')
    print(_table(rows))
    out = args.out or osp.join(ROOT, 'work_dirs', 'benchmark',
                               osp.splitext(osp.basename(args.config))[0] + '.json')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, device=args.device, rows=rows), f, indent=1)
    print(f'\nJSON: {out}')


if __name__ == '__main__':
    main()
