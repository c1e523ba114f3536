"""Known incompatibilities of the pinned OpenMMLab releases with current torch/numpy.

This module is the one place for them. ``gessl_mm/__init__.py`` imports it before
anything else, so importing :mod:`gessl_mm` (also through a config's
``custom_imports``) applies every fix. :func:`apply_compat` is idempotent.

Releases concerned: mmengine 0.10.7, mmcv 2.1.0, mmpretrain 1.2.0, mmdet 3.3.0 with
torch >= 2.6 and numpy >= 1.24. Each fix says what breaks without it and which
upstream change would make it unnecessary.

Checkpoint safety:
    torch >= 2.6 loads checkpoints with ``weights_only=True`` and this module keeps it
    that way. Instead of switching to full pickle it allowlists exactly the types that
    mmengine Runner checkpoints contain (:data:`CHECKPOINT_SAFE_GLOBALS`). Checkpoints
    that need full pickle (arbitrary classes) are refused with
    :class:`UnsafeCheckpointError`. For trusted files, set the environment variable
    ``GESSL_TRUSTED_CHECKPOINTS=1`` (read at every load; applies to every local
    checkpoint that mmengine loads) or call :func:`load_trusted_checkpoint`.
"""
import logging
import os
import os.path as osp
import pickle
import subprocess
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

__all__ = [
    'TRUSTED_CHECKPOINTS_ENV', 'CHECKPOINT_SAFE_GLOBALS', 'UnsafeCheckpointError',
    'apply_compat', 'checkpoints_trusted', 'load_from_local',
    'load_trusted_checkpoint'
]

#: Environment variable that turns full-pickle loading on for local checkpoints.
TRUSTED_CHECKPOINTS_ENV = 'GESSL_TRUSTED_CHECKPOINTS'

# torch 2.6 made ``weights_only=True`` the default of ``torch.load`` and accepts
# ``(object, 'module.name')`` pairs in ``add_safe_globals``. Before 2.6 nothing here
# is needed: the checkpoint fix keeps torch's own default on those releases.
_TORCH_WEIGHTS_ONLY_DEFAULT = digit_version(torch.__version__) >= digit_version('2.6.0')

_applied = False
_warned_trusted = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs types outside the ``weights_only`` allowlist."""


# ---------------------------------------------------------------------------
# (a) numpy aliases removed upstream but still used by these releases.
# ---------------------------------------------------------------------------
def _in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False,
          **kwargs) -> np.ndarray:
    """``np.in1d`` as it was: ``np.isin`` on the flattened first argument."""
    return np.isin(np.asarray(ar1).ravel(), ar2, assume_unique=assume_unique,
                   invert=invert, **kwargs)


def _patch_numpy_aliases() -> None:
    """Set the removed numpy aliases, each only where this numpy lacks it.

    - ``np.float`` (removed in numpy 1.24): ``mmcv/ops/pixel_group.py`` and
      ``mmdet/evaluation/functional/ytviseval.py``. Unnecessary once mmcv > 2.1.0 and
      mmdet > 3.3.0 release their fixes.
    - ``np.long`` (removed in numpy 1.24, back in 2.0):
      ``mmdet/datasets/transforms/text_transformers.py``. Unnecessary with numpy >= 2.0
      or an mmdet release after 3.3.0.
    - ``np.in1d`` (deprecated in numpy 2.0, removed in 2.4):
      ``mmpretrain/evaluation/metrics/retrieval.py``. Unnecessary once mmpretrain
      (> 1.2.0) uses ``np.isin``.
    """
    # ``np.__dict__`` rather than hasattr: numpy's module __getattr__ warns or raises.
    if 'float' not in np.__dict__:
        np.float = float  # the removed alias was the builtin
    if 'long' not in np.__dict__:
        np.long = int  # the removed alias was the builtin
    if 'in1d' not in np.__dict__:
        np.in1d = _in1d


# ---------------------------------------------------------------------------
# (b) torch >= 2.6 ``torch.load(weights_only=True)`` against Runner checkpoints.
# ---------------------------------------------------------------------------
# mmengine 0.10.7 ``load_from_local`` calls ``torch.load(filename, map_location)``.
# Runner checkpoints (CheckpointHook) hold, besides tensors, the MessageHub state:
# ``mmengine.logging.HistoryBuffer`` objects with numpy arrays and scalars, and in
# their pickled state HistoryBuffer's statistics methods, pickled as
# ``getattr(HistoryBuffer, 'min')``. With weights_only=True, ``Runner(resume=True)``
# and ``load_checkpoint`` fail with ``UnpicklingError: Unsupported global``.
# Found with ``torch.serialization.get_unsafe_globals_in_checkpoint`` on Runner
# checkpoints (toy model with SGD / Adam / AdamW, MultiStepLR / CosineAnnealingLR,
# iteration- and epoch-based loops; mmpretrain SimCLR with LARS, LinearLR + cosine
# and EMAHook), all with the same result:
#   numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype,
#   numpy.core.multiarray.scalar, mmengine.logging.history_buffer.HistoryBuffer,
#   builtins.getattr
# plus, not visible as globals but needed to BUILD them, numpy's dtype classes.
# Unnecessary once mmengine (> 0.10.7) stores plain types in checkpoints or
# allowlists them itself.

_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stands in for ``builtins.getattr`` while unpickling with weights_only.

    A real ``getattr`` in the allowlist would reach ``__globals__`` and from there
    ``eval``; this one only returns HistoryBuffer's statistics methods.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed; only '
        f'HistoryBuffer.{{{", ".join(_HISTORY_BUFFER_METHODS)}}} are.')


def _numpy_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """numpy objects needed to rebuild arrays, dtypes and scalars."""
    try:  # numpy >= 1.26 (numpy 2 deprecates ``numpy.core``)
        from numpy._core import multiarray
    except ImportError:
        from numpy.core import multiarray
    entries: List[Union[Callable, Tuple[Callable, str]]] = [np.ndarray, np.dtype]
    # numpy 2 pickles these under ``numpy._core``; same functions, both names.
    for name in ('_reconstruct', 'scalar'):
        func = getattr(multiarray, name)
        entries += [(func, f'numpy.core.multiarray.{name}'),
                    (func, f'numpy._core.multiarray.{name}')]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes is not None:
        entries += [
            cls for cls in vars(dtypes).values()
            if isinstance(cls, type) and issubclass(cls, np.dtype)
        ]
    else:  # older numpy: the dtype classes are only reachable through instances
        entries += list({type(np.dtype(c)) for c in np.typecodes['All'] + 'OV'})
    return entries


#: What :func:`apply_compat` passes to ``torch.serialization.add_safe_globals``.
CHECKPOINT_SAFE_GLOBALS: List[Union[Callable, Tuple[Callable, str]]] = [
    HistoryBuffer,
    (_history_buffer_getattr, 'builtins.getattr'),
    *_numpy_safe_globals(),
]


def checkpoints_trusted() -> bool:
    """Whether ``GESSL_TRUSTED_CHECKPOINTS`` asks for full-pickle loading."""
    value = os.environ.get(TRUSTED_CHECKPOINTS_ENV, '')
    return value.strip().lower() in ('1', 'true', 'yes', 'on')


def _torch_load(filename: str, map_location: Any, weights_only: Optional[bool]) -> Any:
    """``torch.load`` with errors that name the file."""
    kwargs: Dict[str, Any] = {}
    if weights_only is not None:
        kwargs['weights_only'] = weights_only
    try:
        return torch.load(filename, map_location=map_location, **kwargs)
    except pickle.UnpicklingError as e:
        if 'Weights only load failed' in str(e):
            raise UnsafeCheckpointError(
                f'refusing to load checkpoint {filename}: it needs types outside the '
                f'weights_only allowlist (gessl_mm/utils/compat.py). If you trust '
                f'this file, set {TRUSTED_CHECKPOINTS_ENV}=1 or use '
                f'gessl_mm.utils.load_trusted_checkpoint. torch said: {e}') from e
        raise RuntimeError(f'cannot read checkpoint {filename}: {e}') from e
    except Exception as e:  # truncated / corrupt / not a checkpoint
        raise RuntimeError(
            f'cannot read checkpoint {filename}: {type(e).__name__}: {e}') from e


def _resolve_local(filename: str) -> str:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return filename


def load_from_local(filename: str, map_location: Any = None) -> Any:
    """mmengine's local checkpoint loader (``''`` scheme), made safe and explicit.

    Loads with ``weights_only=True`` (torch >= 2.6) and the allowlist above, or with
    full pickle when ``GESSL_TRUSTED_CHECKPOINTS=1``. Errors name the file.

    Args:
        filename (str): Local checkpoint path.
        map_location (Any): Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    global _warned_trusted
    filename = _resolve_local(filename)
    if checkpoints_trusted():
        if not _warned_trusted:
            print_log(
                f'{TRUSTED_CHECKPOINTS_ENV}=1: local checkpoints are loaded with '
                'full pickle (weights_only=False). Only load files you trust.',
                logger='current', level=logging.WARNING)
            _warned_trusted = True
        return _torch_load(filename, map_location, weights_only=False)
    # Before torch 2.6: keep torch's (and mmengine's) own behaviour.
    return _torch_load(filename, map_location,
                       weights_only=True if _TORCH_WEIGHTS_ONLY_DEFAULT else None)


def load_trusted_checkpoint(path: str, map_location: Any = 'cpu') -> Any:
    """Load a checkpoint you trust with full pickle (``weights_only=False``).

    Full pickle runs arbitrary code from the file: use it only for files you
    produced yourself or got from a source you trust.

    Args:
        path (str): Local checkpoint path.
        map_location (Any): Same as :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        Any: The loaded checkpoint.
    """
    return _torch_load(_resolve_local(path), map_location, weights_only=False)


# ---------------------------------------------------------------------------
# (c) mmengine's distributed launch on machines without CUDA (CPU, gloo)
# ---------------------------------------------------------------------------
# mmengine 0.10.7 assumes a GPU per process when it starts a distributed run:
# ``_init_dist_pytorch`` and ``_init_dist_slurm`` call ``torch.cuda.set_device``
# unconditionally (a CPU-only torch has no ``_cuda_setDevice``), and ``Runner.wrap_model``
# gives DistributedDataParallel ``device_ids=[LOCAL_RANK]``, which torch refuses for a CPU
# module. Without CUDA these fixes start the process group with gloo and wrap with
# ``device_ids=None``; with CUDA they leave mmengine's behaviour as it is. Unnecessary once
# mmengine guards those calls (it does for MLU/NPU/MUSA devices already).
def _patch_cpu_launchers() -> None:
    import mmengine.dist.utils as dist_utils
    if getattr(dist_utils._init_dist_pytorch, '_gessl_cpu_fallback', False):
        return
    init_pytorch, init_slurm = dist_utils._init_dist_pytorch, dist_utils._init_dist_slurm

    def init_dist_pytorch(backend: str, init_backend: str = 'torch', **kwargs) -> None:
        if torch.cuda.is_available():
            return init_pytorch(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend='gloo', **kwargs)

    def init_dist_slurm(backend: str, port: Optional[int] = None, init_backend: str = 'torch',
                        **kwargs) -> None:
        if torch.cuda.is_available():
            return init_slurm(backend, port=port, init_backend=init_backend, **kwargs)
        # The variables mmengine derives from Slurm's, as it does (SLURM_LOCALID: the rank
        # on the node).
        if 'MASTER_ADDR' not in os.environ:
            nodes = os.environ['SLURM_NODELIST']
            os.environ['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {nodes} | head -n1')
        if port is not None:
            os.environ['MASTER_PORT'] = str(port)
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
        torch.distributed.init_process_group(backend='gloo', **kwargs)

    for fn in (init_dist_pytorch, init_dist_slurm):
        fn._gessl_cpu_fallback = True
    dist_utils._init_dist_pytorch = init_dist_pytorch
    dist_utils._init_dist_slurm = init_dist_slurm


# ---------------------------------------------------------------------------
# (d) ``Runner.wrap_model``: an unknown wrapper, and DistributedDataParallel on CPU
# ---------------------------------------------------------------------------
# mmengine 0.10.7 looks ``model_wrapper_cfg.type`` up with ``MODEL_WRAPPERS.get`` and passes
# the result to ``issubclass``: a type that no registry holds stops the run with a bare
# ``TypeError: issubclass() arg 1 must be a class``. This names the key and the wrappers
# there are. Unnecessary once mmengine checks the lookup itself.
def _wrapper_class(model_wrapper_cfg: Optional[dict]) -> Optional[type]:
    """The class ``model_wrapper_cfg`` names (None: mmengine's default), or a KeyError."""
    from mmengine.registry import MODEL_WRAPPERS
    if model_wrapper_cfg is None:
        return None
    name = model_wrapper_cfg.get('type', 'MMDistributedDataParallel')
    if not isinstance(name, str):
        return name
    cls = MODEL_WRAPPERS.get(name)
    if cls is None:
        known = sorted({*MODEL_WRAPPERS.module_dict, *(
            k for child in MODEL_WRAPPERS.children.values() for k in child.module_dict)})
        raise KeyError(f'model_wrapper_cfg.type={name!r} is not a registered model wrapper '
                       f'(known: {", ".join(known)}). GeSSL configs use '
                       "model_wrapper_cfg=dict(type='GeSSLDistributedWrapper') and import "
                       "gessl_mm (custom_imports=dict(imports=['gessl_mm'])).")
    return cls


def _patch_wrap_model() -> None:
    from mmengine.runner import Runner
    from torch.nn.parallel import DistributedDataParallel
    original = Runner.wrap_model
    if getattr(original, '_gessl_checked', False):
        return

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        cls = _wrapper_class(model_wrapper_cfg)
        if self.distributed and not torch.cuda.is_available():
            if model_wrapper_cfg is None:  # mmengine's default wrapper, without device ids
                model_wrapper_cfg = dict(
                    type='MMDistributedDataParallel', broadcast_buffers=False,
                    find_unused_parameters=self.cfg.get('find_unused_parameters', False))
                cls = _wrapper_class(model_wrapper_cfg)
            if issubclass(cls, DistributedDataParallel):
                model_wrapper_cfg = dict(model_wrapper_cfg, device_ids=None)
        return original(self, model_wrapper_cfg, model)

    wrap_model._gessl_checked = True
    Runner.wrap_model = wrap_model


def apply_compat() -> None:
    """Apply every fix in this module. Idempotent."""
    global _applied
    if _applied:
        return
    _patch_numpy_aliases()
    _patch_cpu_launchers()
    _patch_wrap_model()
    if _TORCH_WEIGHTS_ONLY_DEFAULT:
        torch.serialization.add_safe_globals(CHECKPOINT_SAFE_GLOBALS)
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    _applied = True


apply_compat()
