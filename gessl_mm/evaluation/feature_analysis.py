"""What the feature-analysis tools (``tools/analysis/few_shot.py``, ``sigma_measure.py``)
share: their common arguments, the frozen features of a config's model with a checkpoint's
weights on ``cfg.feature_eval.query``, and their output (a text table, a JSON file)."""
import argparse
import copy
import json
import logging
import os
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import Dataset, Subset

from ..utils.checkpoint import load_backbone
from .features import extract_features

NO_CHECKPOINT = 'none'


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by the feature-analysis tools."""
    parser.add_argument('config', help='config file of the model (GeSSL or plain SSL)')
    parser.add_argument('checkpoint',
                        help=f'checkpoint file, or "{NO_CHECKPOINT}" for a random init')
    parser.add_argument('--split', help="override the 'split' of cfg.feature_eval.query")
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the episode sampler (and of a random init)')
    parser.add_argument('--out', help='output JSON file (default: next to the checkpoint, '
                        'or in work_dirs/CONFIG_NAME/ for "none")')
    parser.add_argument('--batch-size', type=int, default=256,
                        help='batch size of the feature extraction')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device of the feature extraction')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config with ``--cfg-options`` merged and its default scope made current."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return cfg


def build_model(cfg: Config, checkpoint: str, seed: int = 0, device: str = 'cpu'
                ) -> BaseModel:
    """The model of ``cfg`` with the weights of ``checkpoint`` (or a random init for
    ``'none'``), in eval mode.

    Like the Runner, a top-level ``data_preprocessor`` is the default of the model's, and
    weights are initialised by ``init_weights`` before the checkpoint is loaded.

    The backbone's weights may come from a GeSSL, plain or backbone-only checkpoint and must
    fit exactly (:func:`~gessl_mm.utils.checkpoint.load_backbone`).

    Raises:
        CheckpointError: a ValueError; the checkpoint cannot be read, holds none of the
            model's backbone weights or does not fit them.
    """
    from mmpretrain.registry import MODELS

    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter at INFO
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if checkpoint.lower() != NO_CHECKPOINT:
        load_backbone(model, checkpoint)
    return model.to(device).eval()


def labelled_dataset(cfg: Config, split: Optional[str] = None) -> Dataset:
    """The labelled evaluation set ``cfg.feature_eval.query`` (``split`` overrides its own)."""
    from mmpretrain.registry import DATASETS

    feature_eval = cfg.get('feature_eval')
    if not feature_eval or not feature_eval.get('query'):
        raise ValueError(
            'the config has no `feature_eval.query`: add a labelled dataset config, e.g. '
            "feature_eval = dict(query=dict(type='SklearnDigits', split='test', "
            "pipeline=[dict(type='PackInputs')])) as in "
            'configs/_base_/datasets/digits_ssl.py')
    dataset_cfg = copy.deepcopy(feature_eval['query'])
    if split is not None:
        dataset_cfg['split'] = split
    return DATASETS.build(dataset_cfg)


def features_with_progress(model: BaseModel, dataset: Dataset, batch_size: int = 256
                           ) -> Tuple[Tensor, Tensor]:
    """:func:`~gessl_mm.evaluation.extract_features` chunk by chunk, with a progress bar."""
    print(f'extracting features of {len(dataset)} items')
    bar = ProgressBar(len(dataset))
    feats, labels = [], []
    for start in range(0, len(dataset), batch_size):
        stop = min(start + batch_size, len(dataset))
        f, y = extract_features(model, Subset(dataset, range(start, stop)), batch_size)
        feats.append(f)
        labels.append(y)
        bar.update(stop - start)
    print()
    return torch.cat(feats), torch.cat(labels)


def load_features(args: argparse.Namespace) -> Tuple[Tensor, Tensor, dict]:
    """Config, model and labelled dataset of ``args``; their features, labels and a
    description for the JSON output."""
    cfg = load_config(args.config, args.cfg_options)
    dataset = labelled_dataset(cfg, args.split)
    model = build_model(cfg, args.checkpoint, args.seed, args.device)
    features, labels = features_with_progress(model, dataset, args.batch_size)
    info = dict(config=args.config, checkpoint=args.checkpoint,
                model=type(model).__name__,
                dataset=type(dataset).__name__, split=getattr(dataset, 'split', args.split),
                num_items=len(labels), num_classes=int(labels.unique().numel()),
                feature_dim=int(features.shape[1]))
    return features, labels, info


def default_out(args: argparse.Namespace, suffix: str) -> str:
    """``CKPT_STEM_SUFFIX.json`` next to the checkpoint, or under ``work_dirs/CONFIG`` for a
    random init."""
    if args.checkpoint.lower() == NO_CHECKPOINT:
        directory = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
        stem = 'random-init'
    else:
        directory = osp.dirname(osp.abspath(args.checkpoint))
        stem = osp.splitext(osp.basename(args.checkpoint))[0]
    return osp.join(directory, f'{stem}_{suffix}.json')


def write_json(result: dict, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'results written to {path}')


def print_table(header: Tuple[str, ...], rows: list) -> None:
    """A plain left-aligned text table."""
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def fmt(cells):
        return '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, widths)) + ' |'

    print('\n'.join([line, fmt(header), line, *map(fmt, rows), line]))
