"""Test plugin of the launcher tests: every rank saves its model's state before and after
training, so a test can compare the ranks of a ``dist_train.sh`` run with each other and with
a one-process run. Imported by the tests' derived configs through ``custom_imports``."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class SaveRankStateHook(Hook):
    """Write ``{work_dir}/rank{r}_{before,after}.pth``: the model's state dict on rank r."""

    def before_train(self, runner) -> None:
        runner.logger.info(f'model wrapper: {type(runner.model).__name__}')
        self._save(runner, 'before')

    def after_train(self, runner) -> None:
        self._save(runner, 'after')

    @staticmethod
    def _save(runner, when: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}_{when}.pth'))
