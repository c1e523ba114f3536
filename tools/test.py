"""Test a model: ``python tools/test.py CONFIG CHECKPOINT [options]``.

The command line of mmpretrain's ``tools/test.py``, for two kinds of configs:

* configs with ``test_dataloader`` and ``test_evaluator`` (classification benchmarks,
  linear evaluation): as mmpretrain, ``Runner.test()`` with ``load_from=CHECKPOINT``.
  ``--out`` writes predictions (``.pkl``, ``--out-item pred``) or metrics
  (``--out-item metrics``, the default for a ``.json`` file).
* self-supervised pretraining configs (GeSSL or plain), which have no test loop: the frozen
  features of the model's ``extract_feat`` are evaluated on ``cfg.feature_eval``
  (``bank``: labelled reference set, ``query``: evaluated set) by a k-NN vote (``--k``)
  and a linear probe (as :class:`FeatureEvalHook` does during training). A table is
  printed and the results are written as JSON to ``--out`` (default
  ``{work_dir}/feature_eval_test.json``).

For feature evaluation only the backbone matters, so CHECKPOINT may be a training
checkpoint of the config, of its GeSSL or plain twin (``base.backbone.*`` or
``backbone.*``), or a backbone-only file from ``tools/model_converters/extract_backbone.py``.
"""
import argparse
import json
import os
import os.path as osp
import time
from copy import deepcopy
from typing import List, Optional

import mmengine
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dist import is_main_process
from mmengine.evaluator import DumpResults
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import gessl_mm  # noqa: F401  (registers GeSSL, loads Runner checkpoints safely)
from gessl_mm.utils.checkpoint import CheckpointError, load_backbone

FEATURE_EVAL_JSON = 'feature_eval_test.json'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a model: Runner.test() for configs with a test loop, k-NN and '
        'linear-probe accuracy of frozen features on cfg.feature_eval for '
        'self-supervised configs')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir',
                        help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', help='the file to output results (feature evaluation: JSON)')
    parser.add_argument('--out-item', choices=['metrics', 'pred'],
                        help='test loop only: write metrics or predictions. Defaults to '
                        'metrics for a .json --out, predictions otherwise')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    parser.add_argument('--amp', action='store_true',
                        help='test loop only: automatic-mixed-precision test')
    parser.add_argument('--show-dir',
                        help='test loop only: where to save visualised predictions')
    parser.add_argument('--show', action='store_true',
                        help='test loop only: display predictions in a window')
    parser.add_argument('--interval', type=int, default=1,
                        help='test loop only: visualise every INTERVAL samples')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='test loop only: display time of every window (s)')
    parser.add_argument('--no-pin-memory', action='store_true',
                        help='disable the pin_memory option in dataloaders')
    parser.add_argument('--tta', action='store_true',
                        help='test loop only: test-time augmentation (tta_model and '
                        'tta_pipeline of the config, or flip averaging)')
    parser.add_argument('--k', type=int, default=5,
                        help='feature evaluation: neighbours of the k-NN vote')
    parser.add_argument('--no-linear-probe', action='store_true',
                        help='feature evaluation: skip the linear probe')
    parser.add_argument('--batch-size', type=int, default=256,
                        help='feature evaluation: images per forward pass')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torchrun sets LOCAL_RANK instead)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    if args.k < 1:
        parser.error(f'--k must be at least 1, got {args.k}')
    return args


def test_mode(cfg: Config, config: str) -> str:
    """``'runner'`` (test loop), ``'features'`` (cfg.feature_eval), or a clear error."""
    test_keys = ('test_dataloader', 'test_evaluator')
    missing_test = [k for k in test_keys if not cfg.get(k)]
    if not missing_test:
        return 'runner'
    feature_eval = cfg.get('feature_eval')
    if feature_eval:
        missing = [k for k in ('bank', 'query') if not feature_eval.get(k)]
        if missing:
            raise SystemExit(f'{config}: feature_eval lacks {" and ".join(missing)} (labelled '
                             'dataset configs: bank = reference set, query = evaluated set)')
        return 'features'
    raise SystemExit(
        f'{config}: nothing to test. A config with a test loop needs test_dataloader and '
        f'test_evaluator (missing: {", ".join(missing_test)}); a self-supervised config '
        'needs feature_eval=dict(bank=..., query=...) (missing: feature_eval)')


def merge_args(cfg: Config, args: argparse.Namespace, mode: str) -> Config:
    """Apply the command line to the config (mmpretrain's rules for the test loop)."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if mode == 'features':
        unused = [flag for flag, used in (
            ('--out-item', args.out_item), ('--amp', args.amp), ('--show', args.show),
            ('--show-dir', args.show_dir), ('--tta', args.tta)) if used]
        if unused:
            raise SystemExit(f'{", ".join(unused)}: only for configs with a test loop; '
                             f'{args.config} is evaluated on feature_eval')
        # The weights are loaded by load_backbone(), which accepts several layouts.
        cfg.load_from, cfg.resume = None, False
    else:
        cfg.load_from = args.checkpoint
        if cfg.get('test_cfg') is None:
            cfg.test_cfg = dict()
        if args.amp:
            cfg.test_cfg.fp16 = True
        _visualization_args(cfg, args)
        if args.tta:
            _tta_args(cfg)

    default_dataloader_cfg = ConfigDict(pin_memory=True,
                                        collate_fn=dict(type='default_collate'))
    if cfg.get('test_dataloader') is not None:
        loader = deepcopy(default_dataloader_cfg)
        loader.update(cfg.test_dataloader)
        cfg.test_dataloader = loader
        if args.no_pin_memory:
            cfg.test_dataloader.pin_memory = False

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def _visualization_args(cfg: Config, args: argparse.Namespace) -> None:
    if not (args.show or args.show_dir is not None):
        return
    if 'visualization' not in cfg.default_hooks:
        raise SystemExit('--show/--show-dir: the config has no VisualizationHook; set '
                         "default_hooks.visualization=dict(type='VisualizationHook')")
    vis = cfg.default_hooks.visualization
    vis.enable = True
    vis.show = args.show
    vis.wait_time = args.wait_time
    vis.out_dir = args.show_dir
    vis.interval = args.interval


def _tta_args(cfg: Config) -> None:
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
                        [test_pipeline[-1]]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def build_runner(cfg: Config) -> Runner:
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


# ------------------------------------------------------------------ test loop
def run_test_loop(cfg: Config, args: argparse.Namespace) -> dict:
    runner = build_runner(cfg)
    out_item = args.out_item
    if args.out and out_item is None:
        out_item = 'metrics' if args.out.endswith('.json') else 'pred'
    if args.out and out_item == 'pred':
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and out_item == 'metrics' and is_main_process():
        mmengine.dump(metrics, args.out)
    return metrics


# ---------------------------------------------------------- feature evaluation
def _describe(dataset_cfg: dict) -> str:
    args = ', '.join(f'{k}={dataset_cfg[k]!r}' for k in ('split', 'data_root', 'ann_file',
                                                         'indices') if dataset_cfg.get(k))
    return f"{dataset_cfg.get('type', 'dataset')}({args})"


def format_table(results: dict) -> str:
    rows = [('metric', 'accuracy'), (f"{results['k']}-NN", f"{results['knn_acc']:.4f}")]
    if 'linear_acc' in results:
        rows.append(('linear probe', f"{results['linear_acc']:.4f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join([
        f"feature evaluation of {results['checkpoint']}",
        f"  bank:  {results['bank']}, {results['num_bank']} images",
        f"  query: {results['query']}, {results['num_query']} images",
        f"  weights: {results['weights']}",
        f"  features: {results['feature_dim']}-d",
        '', *lines])


def run_feature_eval(cfg: Config, args: argparse.Namespace) -> dict:
    from mmpretrain.registry import DATASETS

    from gessl_mm.evaluation import extract_features, knn_accuracy, linear_probe_accuracy

    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    try:  # the backbone strictly, from any layout; the other weights where they match
        summary = load_backbone(model, args.checkpoint)
    except CheckpointError as e:
        raise SystemExit(str(e))
    runner.logger.info(summary)
    bank_cfg, query_cfg = cfg.feature_eval.bank, cfg.feature_eval.query
    bank_set, query_set = DATASETS.build(bank_cfg), DATASETS.build(query_cfg)
    if args.k > len(bank_set):
        raise SystemExit(f'--k {args.k} is larger than the bank ({len(bank_set)} images)')

    start = time.perf_counter()
    bank, bank_labels = extract_features(model, bank_set, args.batch_size)
    query, query_labels = extract_features(model, query_set, args.batch_size)
    results = dict(config=args.config, checkpoint=args.checkpoint, weights=summary,
                   bank=_describe(bank_cfg), query=_describe(query_cfg),
                   num_bank=len(bank), num_query=len(query), feature_dim=bank.shape[1],
                   k=args.k,
                   knn_acc=knn_accuracy(bank, bank_labels, query, query_labels, args.k))
    if not args.no_linear_probe:
        results['linear_acc'] = linear_probe_accuracy(bank, bank_labels, query, query_labels)
    results['eval_time'] = time.perf_counter() - start

    metrics = ', '.join(f'{k}={results[k]:.4f}' for k in ('knn_acc', 'linear_acc')
                        if k in results)
    runner.logger.info(f'feature eval ({args.k}-NN): {metrics}')
    if is_main_process():
        out = args.out or osp.join(cfg.work_dir, FEATURE_EVAL_JSON)
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(results, f, indent=1)
        print('\n' + format_table(results) + f'\n\nresults: {out}', flush=True)
    return results


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:  # they may add or remove the test loop
        probe = deepcopy(cfg)
        probe.merge_from_dict(args.cfg_options)
        mode = test_mode(probe, args.config)
    else:
        mode = test_mode(cfg, args.config)
    cfg = merge_args(cfg, args, mode)
    if mode == 'runner':
        return run_test_loop(cfg, args)
    return run_feature_eval(cfg, args)


if __name__ == '__main__':
    main()
