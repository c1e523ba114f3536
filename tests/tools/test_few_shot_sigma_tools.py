"""tools/analysis/few_shot.py and sigma_measure.py: their helpers
(gessl_mm.evaluation.feature_analysis) and end to end."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from torch.utils.data import Subset

from gessl_mm.evaluation import (
    sigma_measure,
)

pytestmark = pytest.mark.integration


SIMCLR_CFG = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py'
GESSL_CFG = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py'


def test_tool_helpers_load_weights_and_datasets(repo_root, tmp_path):
    from gessl_mm.evaluation import feature_analysis as tool
    cfg = tool.load_config(osp.join(repo_root, GESSL_CFG))
    trained = tool.build_model(cfg, 'none', seed=1)
    path = str(tmp_path / 'gessl.pth')
    torch.save({'state_dict': trained.state_dict(), 'meta': {}}, path)
    loaded = tool.build_model(cfg, path, seed=2)
    random = tool.build_model(cfg, 'none', seed=2)
    key = 'base.backbone.conv1.weight'
    assert torch.equal(loaded.state_dict()[key], trained.state_dict()[key])
    assert not torch.equal(random.state_dict()[key], trained.state_dict()[key])

    dataset = tool.labelled_dataset(cfg)
    assert dataset.split == 'test' and len(dataset) == 360
    assert tool.labelled_dataset(cfg, 'val').split == 'val'
    features, labels = tool.features_with_progress(loaded, Subset(dataset, range(60)), 32)
    assert features.shape == (60, 128) and labels.shape == (60, )
    assert sigma_measure(features, labels, 2, 1, 1, tasks=3)['mean'] >= 0

    torch.save({'state_dict': {'head.w': torch.zeros(1)}, 'meta': {}}, path)
    with pytest.raises(ValueError, match='none of the backbone weights'):
        tool.build_model(cfg, path)
    cfg.feature_eval = dict(bank=cfg.feature_eval.bank)
    with pytest.raises(ValueError, match=r'feature_eval\.query'):
        tool.labelled_dataset(cfg)


def test_tools_end_to_end(repo_root, tmp_path):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(osp.join(repo_root, SIMCLR_CFG))
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    ckpt = str(tmp_path / 'simclr.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)

    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    few_shot_out, sigma_out = str(tmp_path / 'fs.json'), str(tmp_path / 'sigma.json')
    commands = [
        [sys.executable, 'tools/analysis/few_shot.py', SIMCLR_CFG, ckpt, '--way', '5',
         '--shot', '1', '5', '--query', '5', '--episodes', '4', '--out', few_shot_out],
        [sys.executable, 'tools/analysis/sigma_measure.py', SIMCLR_CFG, ckpt, '--tasks', '4',
         '--query', '5', '--optimum', 'fitted', '--out', sigma_out],
    ]
    procs = [subprocess.Popen(c, cwd=repo_root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for c in commands]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    for proc, out in zip(procs, outputs):
        assert proc.returncode == 0, out[-3000:]

    with open(few_shot_out) as f:
        few_shot = json.load(f)
    assert few_shot['checkpoint'] == ckpt and few_shot['split'] == 'test'
    assert few_shot['num_items'] == 360 and few_shot['num_classes'] == 10
    assert [r['shot'] for r in few_shot['results']] == [1, 5]
    for result in few_shot['results']:
        assert result['way'] == 5 and result['episodes'] == 4
        for name in ('prototype', 'logistic'):
            assert 0 <= result[name]['accuracy'] <= 1 and result[name]['ci95'] >= 0
            assert len(result[name]['accuracies']) == 4
    assert '| 5-way 5-shot | logistic' in outputs[0]

    with open(sigma_out) as f:
        sigma = json.load(f)['result']
    assert sigma['optimum'] == 'fitted' and sigma['tasks'] == 4
    assert len(sigma['per_task']) == 4 and min(sigma['per_task']) >= 0
    assert math.isfinite(sigma['sigma']) and sigma['sigma'] >= 0
    assert '| fitted' in outputs[1]
