"""Run a study: settings x seeds of pretraining, feature accuracy per epoch, one table.

``python tools/analysis/study.py SPEC [--seeds 0 1 2] [--epochs N] [--split val|test]
[--only NAME ...] [--jobs J] [--work-dir DIR]``

``SPEC`` is a Python file with ``runs = [dict(name=..., config=..., options={...}), ...]``
(see ``configs/benchmarks/digits_study/``): each run is a config plus overrides in the dotted
form of ``--cfg-options`` (values are Python objects, so dicts and lists are fine). Every
(run, seed) pretrains with ``tools/train.py`` in its own process and work dir; the config's
``FeatureEvalHook`` records 5-NN and linear-probe accuracy after each epoch against training
wall time. A (run, seed) whose ``feature_eval.json`` is complete is not run again, so a study
can be extended or resumed.

``--split val`` (the default, for choosing settings) pretrains on the digits ``train``
split and evaluates on ``val``; ``--split test`` (for reporting chosen settings) pretrains on
``trainval`` and evaluates on ``test``. The table (mean ± standard deviation over seeds, and
the seeds' min-max) is printed and written to ``DIR/study.md``, the curves to
``DIR/study.json``.
"""
import argparse
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import mean, pstdev
from typing import Dict, List

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLITS = {
    'val': {'train_dataloader.dataset.split': 'train', 'custom_hooks.0.bank.split': 'train',
            'custom_hooks.0.query.split': 'val'},
    'test': {'train_dataloader.dataset.split': 'trainval',
             'custom_hooks.0.bank.split': 'trainval', 'custom_hooks.0.query.split': 'test'},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Settings x seeds of pretraining, one table')
    parser.add_argument('spec', help='Python file defining `runs`')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--split', choices=list(SPLITS), default='val')
    parser.add_argument('--only', nargs='+', help='run only these names of the spec')
    parser.add_argument('--jobs', type=int, default=1, help='runs in parallel')
    parser.add_argument('--threads', type=int,
                        help='torch threads per run (default: CPU count / jobs)')
    parser.add_argument('--work-dir', help='default: work_dirs/study/<spec>_<split>')
    parser.add_argument('--dry-run', action='store_true', help='write the configs, train none')
    return parser.parse_args()


def load_runs(spec: str, only: List[str]) -> List[dict]:
    runs = runpy.run_path(spec)['runs']
    names = [r['name'] for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f'{spec}: run names must be unique, got {names}')
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise ValueError(f'--only {sorted(unknown)}: not in {spec} (runs: {names})')
        runs = [r for r in runs if r['name'] in only]
    return runs


def write_config(run: dict, seed: int, epochs: int, split: str, work_dir: str) -> str:
    """The run's config with its overrides, split, epochs and seed, dumped to ``work_dir``."""
    cfg = Config.fromfile(osp.join(ROOT, run['config']))
    options = {
        **SPLITS[split], 'train_cfg.max_epochs': epochs, 'randomness.seed': seed,
        'default_hooks.checkpoint.interval': 10**6, **run.get('options', {})
    }
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if scheduler.get('by_epoch', True) and 'T_max' in scheduler:
            options.update({f'param_scheduler.{i}.T_max': epochs,
                            f'param_scheduler.{i}.end': epochs})
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'config.py')
    cfg.dump(path)
    return path


def records_of(work_dir: str) -> List[dict]:
    path = osp.join(work_dir, 'feature_eval.json')
    if not osp.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def train(config: str, work_dir: str, threads: int) -> int:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(osp.join(work_dir, 'train.log'), 'w') as log:
        return subprocess.call(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
             work_dir], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def summarise(runs: List[dict], results: Dict[str, Dict[int, List[dict]]], epochs: int,
              split: str) -> str:
    header = ('setting', 'seeds', 'epochs', 'train s', f'5-NN ({split})',
              f'linear ({split})', '5-NN min-max', 'linear min-max')
    rows = [header]
    for run in runs:
        finals = [recs[-1] for recs in results[run['name']].values()
                  if recs and recs[-1]['epoch'] == epochs]
        if not finals:
            rows.append((run['name'], '0', '-', '-', '-', '-', '-', '-'))
            continue
        knn = [r['knn_acc'] for r in finals]
        lin = [r['linear_acc'] for r in finals]
        rows.append((run['name'], str(len(finals)), str(epochs),
                     f"{mean(r['train_time'] for r in finals):.0f}",
                     f'{mean(knn):.4f} ± {pstdev(knn):.4f}',
                     f'{mean(lin):.4f} ± {pstdev(lin):.4f}',
                     f'{min(knn):.4f}-{max(knn):.4f}', f'{min(lin):.4f}-{max(lin):.4f}'))
    lines = ['| ' + ' | '.join(r) + ' |' for r in rows]
    lines.insert(1, '|' + '---|' * len(header))
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    runs = load_runs(args.spec, args.only)
    spec_name = osp.splitext(osp.basename(args.spec))[0]
    root = args.work_dir or osp.join(ROOT, 'work_dirs', 'study', f'{spec_name}_{args.split}')
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)

    jobs = []
    for run in runs:
        for seed in args.seeds:
            work_dir = osp.join(root, run['name'], f'seed{seed}')
            config = write_config(run, seed, args.epochs, args.split, work_dir)
            recs = records_of(work_dir)
            if not (recs and recs[-1]['epoch'] == args.epochs) and not args.dry_run:
                jobs.append((run['name'], seed, config, work_dir))

    def execute(job) -> None:
        name, seed, config, work_dir = job
        start = time.perf_counter()
        rc = train(config, work_dir, threads)
        status = 'ok' if rc == 0 else f'FAILED (rc {rc}, see {work_dir}/train.log)'
        print(f'{name} seed {seed}: {status} in {time.perf_counter() - start:.0f} s',
              flush=True)

    print(f'{len(jobs)} runs to train ({args.jobs} at a time, {threads} threads each) '
          f'in {root}', flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(execute, jobs))

    results = {r['name']: {s: records_of(osp.join(root, r['name'], f'seed{s}'))
                           for s in args.seeds} for r in runs}
    table = summarise(runs, results, args.epochs, args.split)
    print(table)
    with open(osp.join(root, 'study.md'), 'w') as f:
        f.write(f'`python tools/analysis/study.py {args.spec} --seeds '
                f'{" ".join(map(str, args.seeds))} --epochs {args.epochs} --split '
                f'{args.split}`\n\n{table}\n')
    with open(osp.join(root, 'study.json'), 'w') as f:
        json.dump(dict(runs=runs, epochs=args.epochs, split=args.split, results=results), f,
                  indent=1)


if __name__ == '__main__':
    main()
