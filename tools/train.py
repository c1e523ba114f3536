"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

The command line of mmpretrain's ``tools/train.py``; GeSSL configs need nothing else.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

# Registers GeSSL and applies gessl_mm.utils.compat, without which torch >= 2.6 cannot load
# Runner checkpoints (--resume, load_from) of configs that do not import gessl_mm.
import gessl_mm  # noqa: F401


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (GeSSL or plain mmpretrain)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work '
                        'dir if no checkpoint is given')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bfloat16 autocast for GeSSL)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip the validation loop during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true',
                        help='do not pin memory in dataloaders')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='do not keep dataloader workers alive between epochs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torchrun sets LOCAL_RANK instead)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to the config."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        if cfg.optim_wrapper.get('type') == 'BiLevelOptimWrapper':
            cfg.optim_wrapper.amp = True
        elif cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True

    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        if not loader:
            continue
        # mmpretrain's default: self-supervised preprocessors need batched views.
        loader.setdefault('collate_fn', dict(type='default_collate'))
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers or not loader.get('num_workers'):
            loader['persistent_workers'] = False

    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
