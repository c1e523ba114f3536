"""The offline demo: GeSSL against the plain method on real handwritten digits (or CIFAR-10).

For SimCLR and BYOL, the GeSSL config and its plain twin pretrain the same network on the
same images for the same number of epochs (``tools/train.py``); their frozen features are
evaluated after every epoch by 5-NN and a linear probe on held-out images. The demo prints a
side-by-side table and saves a plot of accuracy against training wall time.

- ``--dataset digits`` (the default, ``make demo``): the digits configs on scikit-learn's
  1,437 training digits, evaluated on the 360 test digits; nothing to download.
- ``--dataset cifar10 --data-root DIR``: the CPU-scale CIFAR-10 configs
  (``*_resnet18-narrow_1xb32-10e_cifar10-10k.py``: 10,000 training images, evaluated on the
  10,000 test images) for a user who has CIFAR-10 in ``DIR`` (the python batches or an
  image-folder tree, see docs/configs.md); an epoch takes about a minute on 2 cores.

Usage: ``python tools/demo.py [--dataset digits|cifar10] [--data-root DIR] [--epochs N]
[--methods simclr byol] [--work-dir DIR]``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# dataset -> method -> {run name: config}; the config names differ only in the dataset part.
CONFIG = 'configs/{method}/{method}{gessl}_resnet18-narrow_1xb32-10e_{dataset}.py'
DATASETS = {'digits': dict(name='digits', config='digits', data_root=None),
            'cifar10': dict(name='CIFAR-10', config='cifar10-10k', data_root='data/cifar10')}
NAMES = {'simclr': 'SimCLR', 'byol': 'BYOL'}


def method_configs(dataset: str, methods: List[str]) -> Dict[str, str]:
    """``{run name: config}`` of the plain twin and the GeSSL config of each method."""
    runs = {}
    for method in methods:
        for suffix, gessl in (('', ''), (' + GeSSL', '-gessl')):
            runs[NAMES[method] + suffix] = CONFIG.format(
                method=method, gessl=gessl, dataset=DATASETS[dataset]['config'])
    return runs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=3, help='epochs of each pretraining')
    parser.add_argument('--dataset', choices=list(DATASETS), default='digits')
    parser.add_argument('--data-root', help='where the dataset is (cifar10: default '
                        'data/cifar10, the python batches or {train,test}/<class>/ images)')
    parser.add_argument('--methods', nargs='+', choices=list(NAMES), default=list(NAMES))
    parser.add_argument('--work-dir', help='default: work_dirs/demo (digits), '
                        'work_dirs/demo_<dataset> (others)')
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


def plot(results: Dict[str, List[dict]], path: str, dataset: str = 'digits') -> None:
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
            ax.set_ylabel(f'{title} accuracy ({DATASETS[dataset]["name"]} test)')
            ax.grid(alpha=0.3)
            ax.legend()
    fig.suptitle(f'{DATASETS[dataset]["name"]}, same epochs (one point per epoch): accuracy '
                 'against training time')
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def dataset_options(dataset: str, data_root: Optional[str]) -> List[str]:
    """``--cfg-options`` that point every dataset of the configs at ``data_root`` (none: the
    configs' own ``data/<name>``, from the working directory)."""
    if not data_root:
        return []
    if DATASETS[dataset]['data_root'] is None:
        raise SystemExit(f'--data-root: the {dataset} dataset ships with the package')
    root = osp.abspath(data_root)
    return [f'{key}.data_root={root}' for key in (
        'train_dataloader.dataset', 'custom_hooks.0.bank', 'custom_hooks.0.query')]


def main() -> None:
    args = parse_args()
    work_root = args.work_dir or osp.join(
        ROOT, 'work_dirs', 'demo' if args.dataset == 'digits' else f'demo_{args.dataset}')
    os.makedirs(work_root, exist_ok=True)
    options = dataset_options(args.dataset, args.data_root) + args.cfg_options
    results = {}
    for name, config in method_configs(args.dataset, args.methods).items():
        work_dir = osp.join(work_root, osp.splitext(osp.basename(config))[0])
        pretrain(name, config, work_dir, args.epochs, args.seed, options)
        with open(osp.join(work_dir, 'feature_eval.json')) as f:
            results[name] = json.load(f)
    print('\n' + table(results))
    path = osp.join(work_root, 'accuracy_vs_time.png')
    plot(results, path, args.dataset)
    with open(osp.join(work_root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print(f'\nplot: {path}\nresults: {osp.join(work_root, "results.json")}')


if __name__ == '__main__':
    main()
