"""Shared test setup: the package (with its compat fixes), 2 threads, fixed seeds,
mmengine globals restored after each test."""
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

import gessl_mm  # noqa: F401  (applies gessl_mm.utils.compat before any test)

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
