"""How long the input pipeline keeps the model waiting: mmengine's ``data_time`` against the
whole iteration's ``time``, per config and number of dataloader workers.

``python tools/analysis/data_time.py CONFIG [CONFIG ...] [--iters 40] [--warmup 5]
[--workers 0 1 2] [--threads 2] [--decode-per-item] [--cfg-options k=v ...]``

Each (config, workers) is one ``tools/train.py`` run of ``--iters`` iterations in its own
process (``train_dataloader.dataset.num_images`` = iterations x batch size, one epoch, no
feature evaluation, the Runner's timings logged every iteration). ``data_time`` is the wait
for the next batch, ``time`` the whole iteration including it (mmengine's ``IterTimerHook``);
the table gives their medians after ``--warmup`` iterations.

``--decode-per-item`` replaces the config's in-memory CIFAR dataset with mmpretrain's
``CustomDataset`` on ``<data_root>/train`` and ``LoadImageFromFile`` in front of the pipeline:
every image decoded from its file each time it is drawn, as an image-folder tree is read
without :class:`~gessl_mm.datasets.LocalCIFAR10`.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
from glob import glob
from statistics import median
from typing import List

from mmengine.config import Config, DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=5, help='iterations left out')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--threads', type=int, default=2, help='torch threads of the step')
    parser.add_argument('--decode-per-item', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--out', help='also write the rows to this JSON file')
    args = parser.parse_args()
    if args.iters <= args.warmup:
        parser.error('--iters must exceed --warmup')
    return args


def timing_config(config: str, iters: int, workers: int, decode_per_item: bool,
                  options: dict, work_dir: str) -> str:
    """``config`` shrunk to ``iters`` iterations with ``workers`` workers, dumped."""
    cfg = Config.fromfile(config)
    loader = cfg.train_dataloader
    images = iters * loader.batch_size
    if decode_per_item:
        dataset = loader.dataset
        loader.dataset = dict(type='CustomDataset', data_root=dataset.data_root,
                              data_prefix='train', indices=images,
                              pipeline=[dict(type='LoadImageFromFile'), *dataset.pipeline])
    else:
        loader.dataset.num_images = images
    loader.num_workers = workers
    loader.persistent_workers = workers > 0
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h.get('type') != 'FeatureEvalHook']
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 10**6
    cfg.log_processor = dict(window_size=1)
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    path = osp.join(work_dir, 'config.py')
    cfg.dump(path)
    return path


def measure(config: str, workers: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as work_dir:
        path = timing_config(config, args.iters, workers, args.decode_per_item,
                             args.cfg_options, work_dir)
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                   MKL_NUM_THREADS=str(args.threads))
        proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), path,
                               '--work-dir', work_dir], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f'{config} (workers {workers}) failed:\n{proc.stdout[-3000:]}'
                             f'\n{proc.stderr[-3000:]}')
        with open(glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]) as f:
            rows = [json.loads(line) for line in f]
    rows = [r for r in rows if 'data_time' in r][args.warmup:]
    data_time = median(r['data_time'] for r in rows)
    time = median(r['time'] for r in rows)
    return dict(config=osp.basename(config), workers=workers, iters=len(rows),
                pipeline='decode per item' if args.decode_per_item else 'in memory',
                data_time=data_time, time=time, share=data_time / time)


def table(rows: List[dict]) -> str:
    lines = ['| config | images | workers | data_time (s) | time (s) | data_time / time |',
             '|---|---|---|---|---|---|']
    lines += [f"| {r['config']} | {r['pipeline']} | {r['workers']} | {r['data_time']:.4f} | "
              f"{r['time']:.4f} | {r['share']:.0%} |" for r in rows]
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    rows = []
    for config in args.configs:
        for workers in args.workers:
            rows.append(measure(config, workers, args))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
