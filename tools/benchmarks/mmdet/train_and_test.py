"""Fine-tune a detector from a pretrained backbone, then test it, in one process.

    python tools/benchmarks/mmdet/train_and_test.py CONFIG --pretrained PRETRAIN [options]

The entry point of ``dist_train_c4.sh``, ``dist_train_fpn.sh``, ``train_c4.sh`` and
``train_fpn.sh``: mmengine's ``Runner`` trains the config of
``configs/benchmarks/mmdet`` (``runner.train()``), then evaluates the final weights on
its test split (``runner.test()``); the test metrics are printed and written to
``WORK_DIR/test_metrics.json``.

``--pretrained`` sets the checkpoint of every ``StrictPretrained`` init_cfg of the model
(the transfer configs have one, on the detector; same as ``--cfg-options
model.init_cfg.checkpoint=PRETRAIN``), which fails with the list of keys when the
checkpoint does not fit the backbone. ``--norm BN`` turns the configs' SyncBN into BN for
one device (mmengine's Runner also does it by itself when there is no launcher).

Use this rather than ``tools/train.py`` for mmdet configs: that one is mmpretrain's,
whose ``default_collate`` does not batch detection samples.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.runner import Runner

import gessl_mm  # noqa: F401  (compat fixes, GeSSL registries)
from gessl_mm.mmdet_utils import set_pretrained, switch_norm

METRICS_FILE = 'test_metrics.json'
# Metrics printed at the end, as the papers name them, when present.
_HEADLINE = {
    'pascal_voc/AP50': 'AP50', 'pascal_voc/mAP': 'AP', 'pascal_voc/AP75': 'AP75',
    'coco/bbox_mAP': 'AP_bb', 'coco/bbox_mAP_50': 'AP50_bb', 'coco/bbox_mAP_75': 'AP75_bb',
    'coco/segm_mAP': 'AP_mk', 'coco/segm_mAP_50': 'AP50_mk', 'coco/segm_mAP_75': 'AP75_mk'
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fine-tune a detector from a pretrained (GeSSL) backbone, then test it')
    parser.add_argument('config', help='config of configs/benchmarks/mmdet')
    parser.add_argument('--pretrained', metavar='PRETRAIN',
                        help='pretrained checkpoint (GeSSL: base.backbone.*; mmpretrain: '
                        'backbone.*; or a backbone-only file), for every StrictPretrained '
                        'init_cfg of the model')
    parser.add_argument('--pretrained-prefix', nargs='+', metavar='PREFIX',
                        help="where the backbone sits in PRETRAIN (default: the config's, "
                        "'base.backbone.' 'backbone.' ''); '' for no prefix")
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints, metrics')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work '
                        'dir if no checkpoint is given')
    parser.add_argument('--test-only', metavar='CKPT',
                        help='skip training: test the detector checkpoint CKPT')
    parser.add_argument('--norm', choices=['SyncBN', 'BN'],
                        help="BN: replace the config's SyncBN layers (one device)")
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the total batch size (reference: 16 images)')
    parser.add_argument('--no-validate', action='store_true',
                        help='no validation during training (the final test still runs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to the config."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.test_only:
        # The detector checkpoint holds every weight: no pretrained backbone to load.
        cfg.model.pop('init_cfg', None)
        cfg.load_from = args.test_only
    elif args.pretrained is not None or args.pretrained_prefix is not None:
        if args.pretrained is not None and '://' not in args.pretrained \
                and not osp.isfile(osp.expanduser(args.pretrained)):
            raise FileNotFoundError(f'--pretrained {args.pretrained}: no such file')
        prefix = args.pretrained_prefix
        if prefix is not None:
            prefix = tuple(prefix) if len(prefix) > 1 else prefix[0]
        for path in set_pretrained(cfg.model, args.pretrained, prefix):
            print_log(f'model.{path}: StrictPretrained from --pretrained / '
                      '--pretrained-prefix', logger='current')

    if args.norm == 'BN':
        switch_norm(cfg.model, 'SyncBN', 'BN')
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))['enable'] = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None

    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def summary(metrics: Dict[str, float]) -> str:
    """The headline metrics in percent, e.g. ``AP50 81.2 | AP 53.1 | AP75 58.9``."""
    return ' | '.join(f'{name} {100 * float(metrics[key]):.1f}'
                      for key, name in _HEADLINE.items() if key in metrics)


def train_and_test(cfg: Config, test_only: bool = False) -> Dict[str, float]:
    """``Runner.train()`` (unless ``test_only``) then ``Runner.test()``; returns and writes
    the test metrics."""
    runner = Runner.from_cfg(cfg)
    if not test_only:
        runner.train()
    metrics = runner.test()
    metrics = {k: float(v) if isinstance(v, (int, float)) else v for k, v in metrics.items()}
    if is_main_process():
        path = osp.join(cfg.work_dir, METRICS_FILE)
        with open(path, 'w') as f:
            json.dump(metrics, f, indent=2)
        print_log(f'test metrics ({path}): {summary(metrics) or metrics}', logger='current')
    return metrics


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    return train_and_test(cfg, test_only=bool(args.test_only))


if __name__ == '__main__':
    main()
