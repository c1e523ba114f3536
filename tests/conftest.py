"""Shared test setup: the package (with its compat fixes), 2 threads, fixed seeds,
mmengine globals restored after each test, the test tiers enforced; and the fixtures and
modules (helpers.py, synthetic_data.py) that tests in several folders share."""
import os
import os.path as osp
import random
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

import gessl_mm  # noqa: F401  (applies gessl_mm.utils.compat before any test)
from gessl_mm.datasets import LocalCIFAR10

# tests/ itself: the test modules in its subfolders import helpers and synthetic_data.
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from synthetic_data import make_cifar  # noqa: E402

SEED = 0


def pytest_configure(config: pytest.Config) -> None:
    # GESSL_TEST_THREADS=1 reruns the suite with other float reduction orders (determinism).
    torch.set_num_threads(int(os.environ.get('GESSL_TEST_THREADS', '2')))


@pytest.fixture(autouse=True)
def _deterministic_seeds() -> None:
    """Seed python, numpy and torch before every test."""
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)


@pytest.fixture(autouse=True)
def _isolate_mmengine_globals():
    """Undo a test's changes to the current default scope and message hub.

    A Runner makes its own ``DefaultScope`` ('mmengine') and ``MessageHub`` current;
    without this, registry lookups and runtime info in later tests depend on test order.
    """
    saved = {cls: cls._instance_dict.copy() for cls in (DefaultScope, MessageHub)}
    yield
    for cls, instances in saved.items():
        cls._instance_dict = instances


@pytest.fixture
def tmp_work_dir(tmp_path) -> str:
    """A fresh ``work_dir`` for a Runner, as a string path."""
    work_dir = tmp_path / 'work_dir'
    work_dir.mkdir()
    return str(work_dir)


@pytest.fixture(scope='session')
def repo_root() -> str:
    """The repository root (where setup.py lives)."""
    return osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def cifar10_trees(tmp_path_factory):
    """The same tiny CIFAR-10 in both layouts: ``{layout: root}``, and the source arrays."""
    roots = {}
    for layout in ('batches', 'folders'):
        roots[layout] = tmp_path_factory.mktemp(f'cifar10_{layout}')
        source = make_cifar(roots[layout], LocalCIFAR10, layout)
    return roots, source


TIERS = ('unit', 'integration', 'multiprocess')


def pytest_collection_modifyitems(config: pytest.Config, items) -> None:
    """Every test is in exactly one tier (``pytest -m unit``, ``integration``,
    ``multiprocess``): a test with none, or with more than one, stops the collection."""
    wrong = []
    for item in items:
        tiers = sorted({m.name for m in item.iter_markers() if m.name in TIERS})
        if len(tiers) != 1:
            wrong.append(f'{item.nodeid}: {tiers or "no tier"}')
    if wrong:
        raise pytest.UsageError(
            'every test needs exactly one of the markers ' + ', '.join(TIERS) +
            ' (a module-level pytestmark or a decorator):\n  ' + '\n  '.join(wrong))


@pytest.fixture
def in_repo_root(monkeypatch, repo_root):
    """Relative data paths (data/...) are resolved from the repository root, as the tools
    are run; registry look-ups in mmpretrain's scope; CosineEMA's max_iters is known."""
    monkeypatch.chdir(repo_root)
    MessageHub.get_current_instance().update_info('max_iters', 100)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


@pytest.fixture
def mmpretrain_scope(monkeypatch):
    """Registry look-ups in mmpretrain's scope, as under a config's default_scope; the
    tools' LOCAL_RANK default is undone afterwards."""
    monkeypatch.setenv('LOCAL_RANK', '0')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield
