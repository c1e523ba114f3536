"""Evaluate frozen features during self-supervised training, against training wall time."""
import json
import os.path as osp
import time
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import DATASETS, HOOKS

from gessl_mm.evaluation import extract_features, knn_accuracy, linear_probe_accuracy


@HOOKS.register_module()
class FeatureEvalHook(Hook):
    """k-NN (and optionally linear-probe) accuracy of the backbone every ``interval`` epochs.

    Features of ``bank`` (labelled reference set) and ``query`` (evaluated set) come from the
    model's ``extract_feat``. Accuracies are logged (``knn_acc``, ``linear_acc``) together
    with ``train_time``, the training wall time so far with evaluation time excluded, and
    appended to ``{work_dir}/feature_eval.json`` for accuracy-against-time curves.

    Args:
        bank: dataset config of the labelled reference set (pipeline ending in PackInputs).
        query: dataset config of the evaluated set.
        k: neighbours of the k-NN vote.
        interval: evaluate every ``interval`` epochs (and after the last one).
        linear_probe: also fit a logistic-regression probe on the bank features.
        at_start: also evaluate before the first epoch (the initialisation).
    """
    priority = 'LOW'

    def __init__(self, bank: dict, query: dict, k: int = 5, interval: int = 1,
                 linear_probe: bool = True, at_start: bool = True) -> None:
        self.bank_cfg, self.query_cfg = bank, query
        self.k, self.interval = k, interval
        self.linear_probe, self.at_start = linear_probe, at_start
        self.train_time = 0.0
        self._epoch_start: Optional[float] = None
        self.records = []

    def before_run(self, runner) -> None:
        self.bank = DATASETS.build(self.bank_cfg)
        self.query = DATASETS.build(self.query_cfg)
        self.path = osp.join(runner.work_dir, 'feature_eval.json')

    def before_train(self, runner) -> None:
        if runner.iter > 0 and osp.exists(self.path):  # resumed: continue the curve
            with open(self.path) as f:
                self.records = [r for r in json.load(f) if r['iter'] <= runner.iter]
            self.train_time = self.records[-1]['train_time'] if self.records else 0.0
        elif self.at_start:
            self._evaluate(runner, epoch=0)

    def before_train_epoch(self, runner) -> None:
        self._epoch_start = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        self.train_time += time.perf_counter() - self._epoch_start
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self._evaluate(runner, epoch=runner.epoch + 1)  # runner.epoch counts from 0

    def _evaluate(self, runner, epoch: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bank, bank_labels = extract_features(model, self.bank)
        query, query_labels = extract_features(model, self.query)
        record = dict(epoch=epoch, iter=runner.iter, train_time=self.train_time,
                      knn_acc=knn_accuracy(bank, bank_labels, query, query_labels, self.k))
        if self.linear_probe:
            record['linear_acc'] = linear_probe_accuracy(bank, bank_labels, query, query_labels)
        self.records.append(record)
        for key in ('knn_acc', 'linear_acc', 'train_time'):
            if key in record:
                runner.message_hub.update_scalar(f'val/{key}', record[key])
        runner.logger.info('feature eval: ' + ', '.join(
            f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}' for k, v in record.items()))
        if is_main_process():
            with open(self.path, 'w') as f:
                json.dump(self.records, f, indent=1)
