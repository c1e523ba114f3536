"""The README's Usage config."""
import helpers  # noqa: F401  (makes mmpretrain the default scope, as a config does)
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS

pytestmark = pytest.mark.integration


def test_readme_usage_config_builds(tmp_path):
    """The README's Usage example is a working config (as the Runner builds it)."""
    from pathlib import Path

    from mmengine.config import Config
    readme = (Path(__file__).parents[2] / 'README.md').read_text()
    start = readme.index("```python\n_base_ = 'mmpretrain::simclr")
    block = readme[start + len('```python\n'):readme.index('```', start + 10)]
    (tmp_path / 'cfg.py').write_text(block)
    cfg = Config.fromfile(str(tmp_path / 'cfg.py'))
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)  # as Runner does
    model = MODELS.build(model_cfg)
    assert type(model.base).__name__ == 'SimCLR'
    assert model.data_preprocessor.task_size == 16
    assert model.data_preprocessor._enable_normalize
    torch.testing.assert_close(model.data_preprocessor.mean.flatten(),
                               torch.tensor([123.675, 116.28, 103.53]))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert (wrapper.inner_lr, wrapper.target_steps, wrapper.tasks_per_update) == (0.01, 10, 8)
