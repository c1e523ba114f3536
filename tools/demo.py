"""The offline demo: GeSSL against the plain method on real handwritten digits.

For SimCLR and BYOL, the GeSSL config and its plain twin pretrain the same network on the
same 1,437 digit images for the same number of epochs (``tools/train.py``); their frozen
features are evaluated after every epoch by 5-NN and a linear probe on the 360 held-out test
digits. The demo prints a side-by-side table and saves a plot of accuracy against training
wall time.

Usage: ``python tools/demo.py [--epochs N] [--methods simclr byol] [--work-dir DIR]``
(``make demo`` runs it).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METHODS = {
    'simclr': {
        'SimCLR': 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py',
        'SimCLR + GeSSL': 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py',
    },
    'byol': {
        'BYOL': 'configs/byol/byol_resnet18-narrow_1xb32-10e_digits.py',
        'BYOL + GeSSL': 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_digits.py',
    },
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=3, help='epochs of each pretraining')
    parser.add_argument('--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'demo'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for every run (as tools/train.py)')
    return parser.parse_args()


def pretrain(name: str, config: str, work_dir: str, epochs: int, seed: int,
             options: List[str]) -> float:
    """Run tools/train.py for one config; returns the wall time of the whole run."""
    cmd = [
        sys.executable, osp.join(ROOT, 'tools', 'train.py'), osp.join(ROOT, config),
        '--work-dir', work_dir, '--cfg-options', f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.0.T_max={epochs}', f'param_scheduler.0.end={epochs}',
        f'randomness.seed={seed}', 'default_hooks.checkpoint.interval=1000', *options
    ]
    print(f'\n=== {name}: {epochs} epochs ({config}); log in {work_dir}', flush=True)
    start = time.perf_counter()
    with open(osp.join(work_dir + '.log'), 'w') as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            if 'feature eval' in line or 'Error' in line or 'Epoch(train)' in line:
                print('  ' + line.split(' - ')[-1].rstrip(), flush=True)
        if proc.wait():
            raise SystemExit(f'{name} failed; see {work_dir}.log')
    return time.perf_counter() - start


def table(results: Dict[str, List[dict]]) -> str:
    """Last epoch of every run, each pair followed by its initialisation."""
    header = ('method', 'epochs', 'train time (s)', '5-NN acc', 'linear acc')
    rows = [header]
    names = list(results)
    for i, (name, records) in enumerate(results.items()):
        last = records[-1]
        rows.append((name, str(last['epoch']), f"{last['train_time']:.0f}",
                     f"{last['knn_acc']:.4f}", f"{last['linear_acc']:.4f}"))
        if i % 2 == 1 or i == len(names) - 1:
            first = records[0]
            rows.append(('  (initialisation)', '0', '0', f"{first['knn_acc']:.4f}",
                         f"{first['linear_acc']:.4f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def plot(results: Dict[str, List[dict]], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = list(results)
    pairs = [names[i:i + 2] for i in range(0, len(names), 2)]
    fig, axes = plt.subplots(len(pairs), 2, figsize=(10, 4 * len(pairs)), squeeze=False)
    for pair, row in zip(pairs, axes):
        for ax, key, title in zip(row, ('knn_acc', 'linear_acc'), ('5-NN', 'linear probe')):
            for name in pair:
                records = results[name]
                ax.plot([r['train_time'] for r in records], [r[key] for r in records], 'o-',
                        label=name)
            ax.set_xlabel('training wall time (s)')
            ax.set_ylabel(f'{title} accuracy (test digits)')
            ax.grid(alpha=0.3)
            ax.legend()
    fig.suptitle('Digits, same epochs (one point per epoch): accuracy against training time')
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    results = {}
    runs = {name: config for method in args.methods for name, config in METHODS[method].items()}
    for name, config in runs.items():
        work_dir = osp.join(args.work_dir, osp.splitext(osp.basename(config))[0])
        pretrain(name, config, work_dir, args.epochs, args.seed, args.cfg_options)
        with open(osp.join(work_dir, 'feature_eval.json')) as f:
            results[name] = json.load(f)
    print('\n' + table(results))
    path = osp.join(args.work_dir, 'accuracy_vs_time.png')
    plot(results, path)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print(f'\nplot: {path}\nresults: {osp.join(args.work_dir, "results.json")}')


if __name__ == '__main__':
    main()
