"""Few-shot episodes, the sigma-measurement and their command-line tools."""
import importlib.util
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

from gessl_mm.evaluation import (
    few_shot_evaluate,
    logistic_episode_accuracy,
    prototype_episode_accuracy,
    sample_episodes,
    sigma_measure,
)
from gessl_mm.evaluation.few_shot import episode_split
from gessl_mm.evaluation.sigma import task_kl

SIMCLR_CFG = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py'
GESSL_CFG = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py'
NUM_CLASSES, PER_CLASS, DIM = 10, 30, 32


def clusters(separation: float = 6.0, seed: int = 0):
    """``NUM_CLASSES`` Gaussian clusters: features (300, 32) and labels (300,)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(PER_CLASS)
    centers = torch.randn(NUM_CLASSES, DIM, generator=g) * separation
    return centers[labels] + torch.randn(len(labels), DIM, generator=g), labels


def shuffled(labels: torch.Tensor) -> torch.Tensor:
    """The same labels in random order: as many items per class, unrelated to features."""
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]


# --------------------------------------------------------------------- episodes
def test_sample_episodes_shapes_classes_and_disjointness():
    labels = np.repeat(np.arange(7), [20, 21, 22, 23, 24, 25, 26])
    support, query = sample_episodes(labels, way=5, shot=3, query=4, episodes=20, seed=3)
    assert support.shape == (20, 5, 3) and query.shape == (20, 5, 4)
    for s, q in zip(support, query):
        assert not set(s.ravel()) & set(q.ravel())  # support and query disjoint
        assert len(set(s.ravel()) | set(q.ravel())) == 5 * 7  # no repeated item
        classes = [labels[s[j, 0]] for j in range(5)]
        assert len(set(classes)) == 5  # 5 different classes
        for j, c in enumerate(classes):  # row j holds class c only
            assert (labels[s[j]] == c).all() and (labels[q[j]] == c).all()
    # reproducible by seed, different across seeds
    again = sample_episodes(labels, 5, 3, 4, 20, seed=3)
    other = sample_episodes(labels, 5, 3, 4, 20, seed=4)
    assert (again[0] == support).all() and (again[1] == query).all()
    assert not (other[0] == support).all()


def test_sample_episodes_errors():
    labels = torch.tensor([0] * 10 + [1] * 10 + [2] * 4)
    with pytest.raises(ValueError, match=r'way=4 exceeds the 3 classes'):
        sample_episodes(labels, way=4, shot=1, query=1, episodes=1)
    with pytest.raises(ValueError, match=r'shot \+ query = 5.*\{2: 4\}'):
        sample_episodes(labels, way=2, shot=1, query=4, episodes=1)
    for bad in (dict(way=0), dict(shot=0), dict(query=-1), dict(episodes=0)):
        kwargs = {**dict(way=2, shot=1, query=1, episodes=1), **bad}
        with pytest.raises(ValueError, match='positive integer'):
            sample_episodes(labels, **kwargs)
    sample_episodes(labels, way=3, shot=1, query=3, episodes=2)  # 4 items suffice


# ------------------------------------------------------------------ classifiers
def test_classifiers_on_separable_and_random_labels():
    features, labels = clusters()
    support_idx, query_idx = sample_episodes(labels, 5, 1, 10, 5, seed=0)
    for e in range(5):
        episode = episode_split(features, support_idx[e], query_idx[e])
        assert prototype_episode_accuracy(*episode) == 1.0
        assert logistic_episode_accuracy(*episode) == 1.0
    good = few_shot_evaluate(features, labels, 5, 1, 10, 30, seed=0)
    rand = few_shot_evaluate(features, shuffled(labels), 5, 1, 10, 30, seed=0)
    for name in ('prototype', 'logistic'):
        assert good[name]['accuracy'] > 0.98
        assert abs(rand[name]['accuracy'] - 1 / 5) < 0.07, rand[name]['accuracy']
        assert len(rand[name]['accuracies']) == 30
        assert all(0 <= a <= 1 for a in rand[name]['accuracies'])
    assert (good['way'], good['shot'], good['query'], good['episodes']) == (5, 1, 10, 30)


def test_confidence_interval_shrinks_with_episodes():
    features, labels = clusters(separation=0.3)  # hard: accuracies vary across episodes
    few = few_shot_evaluate(features, labels, 5, 1, 5, 8, classifiers=('prototype', ))
    many = few_shot_evaluate(features, labels, 5, 1, 5, 200, classifiers=('prototype', ))
    assert 'logistic' not in many
    assert 0 < many['prototype']['ci95'] < few['prototype']['ci95'] / 2
    accs = np.array(many['prototype']['accuracies'])
    assert math.isclose(many['prototype']['ci95'], 1.96 * accs.std() / math.sqrt(200))
    sig_few = sigma_measure(features, labels, 5, 1, 5, tasks=8)
    sig_many = sigma_measure(features, labels, 5, 1, 5, tasks=200)
    assert 0 < sig_many['ci95'] < sig_few['ci95'] / 2
    with pytest.raises(ValueError, match='unknown classifiers'):
        few_shot_evaluate(features, labels, 5, 1, 5, 2, classifiers=('svm', ))


# ------------------------------------------------------------------------ sigma
def test_task_kl_onehot_is_the_true_class_nll():
    support = torch.eye(2)
    query = torch.tensor([[1., 0.], [1., 1.]])
    kl = task_kl(support, torch.tensor([0, 1]), query, torch.tensor([0, 1]), temperature=0.1)
    # item 1: cos = (1, 0) -> -log softmax(10, 0)[0]; item 2: cos equal -> log 2
    expected = (math.log1p(math.exp(-10)) + math.log(2)) / 2
    assert math.isclose(kl, expected, rel_tol=1e-5)
    sharper = task_kl(support, torch.tensor([0, 1]), query[:1], torch.tensor([0]), 0.05)
    assert sharper < math.log1p(math.exp(-10))  # lower temperature, more confident
    with pytest.raises(ValueError, match='optimum'):
        task_kl(support, torch.tensor([0, 1]), query, torch.tensor([0, 1]), optimum='x')


@pytest.mark.parametrize('optimum', ['onehot', 'fitted'])
def test_sigma_lower_for_separable_features(optimum):
    features, labels = clusters()
    good = sigma_measure(features, labels, 5, 2, 5, tasks=10, optimum=optimum)
    noise = torch.randn(features.shape, generator=torch.Generator().manual_seed(2))
    bad = sigma_measure(noise, labels, 5, 2, 5, tasks=10, optimum=optimum)
    for res in (good, bad):
        values = np.array(res['per_task'])
        assert len(values) == 10 and np.isfinite(values).all() and (values > 0).all()
        assert math.isclose(res['sigma'], values.sum()) and math.isclose(res['mean'],
                                                                           values.mean())
        assert res['optimum'] == optimum and res['temperature'] == 0.1
    assert good['mean'] < 0.2 * bad['mean'], (good['mean'], bad['mean'])
    if optimum == 'onehot':  # a near-uniform pi_theta pays about log(way)
        assert good['mean'] < 0.05 and bad['mean'] > 0.5


# ------------------------------------------------------------------------ tools
def _load_tool(repo_root: str, name: str):
    spec = importlib.util.spec_from_file_location(
        f'_tool_{name}', osp.join(repo_root, 'tools', 'analysis', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tool_helpers_load_weights_and_datasets(repo_root, tmp_path):
    tool = _load_tool(repo_root, 'few_shot')
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
