"""The optimizer wrapper that owns GeSSL's second level: accumulate, all-reduce, clip, step."""
import logging
import math
import re
from contextlib import contextmanager
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS
from torch import nn
from torch.optim import Optimizer

from gessl_mm.utils.rate_limit import DoublingRateLimit

from ..errors import NonFiniteError
from ..hypergradients import Params, build_hypergradient

__all__ = ['BiLevelOptimWrapper']

# An unclipped outer step ``lr * ||hypergradient||`` above this fraction of the weights'
# norm is logged as a warning: plain SGD steps of SSL methods stay near 1% of it.
LARGE_STEP_RATIO = 0.1
_OTHER_RANK_FAILED = ('GeSSL: a non-finite loss on another rank (or a failed hypergradient '
                      "solve: see that rank's log); training stopped before the weights were "
                      'updated.')


@OPTIM_WRAPPERS.register_module()
class BiLevelOptimWrapper(OptimWrapper):
    """Optimizer wrapper for GeSSL's bi-level optimisation (paper §4.3, Algorithm 1).

    It holds the bi-level settings that :class:`~gessl_mm.models.GeSSL`'s step reads (the
    first level: ``inner_steps`` steps of gradient descent with ``inner_lr``; the target:
    ``target_steps - 1`` more; the :attr:`hypergrad` method) and owns the second level, in
    mmengine's style: :meth:`should_update` says whether the next task completes an outer
    update, and :meth:`update_params` adds a task's hypergradient and, once
    ``tasks_per_update`` tasks are in (across iterations when a batch holds fewer),
    averages it across ranks, clips it (``clip_grad``) and steps the wrapped optimizer,
    whose learning rate is the outer ``beta`` (mmengine's parameter schedulers act on it).

    Args:
        optimizer: the outer optimizer (``beta`` is its ``lr``).
        inner_lr: ``alpha``, the inner (and target) step size.
        inner_steps: ``K >= 1``.
        target_steps: ``lambda >= 1``; the target takes ``lambda - 1`` steps beyond ``K``.
        tasks_per_update: ``n``, tasks whose hypergradients make one outer update.
        hypergrad: ``dict(type=METHOD, **options)``, a method of
            :mod:`gessl_mm.engine.hypergradients` (default ``'finite_diff'``).
        inner_params: ``'all'`` or regular expressions matched at the start of the base
            algorithm's parameter names (e.g. ``['neck', 'head']``); only those adapt in the
            inner loop, all parameters get their hypergradient.
        amp: mixed precision for the forward passes: False, True (bfloat16) or
            ``dict(dtype='bfloat16' | 'float16')``. There is no loss scaling: prefer
            bfloat16.
        clip_grad: as in :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self,
                 optimizer: Optimizer,
                 inner_lr: float,
                 inner_steps: int = 1,
                 target_steps: int = 10,
                 tasks_per_update: int = 8,
                 hypergrad: Optional[dict] = None,
                 inner_params: Union[str, Sequence[str]] = 'all',
                 amp: Union[bool, dict] = False,
                 accumulative_counts: int = 1,
                 clip_grad: Optional[dict] = None) -> None:
        if accumulative_counts != 1:
            raise ValueError('optim_wrapper.accumulative_counts is not used by '
                             'BiLevelOptimWrapper: set optim_wrapper.tasks_per_update instead')
        super().__init__(optimizer, clip_grad=clip_grad)
        _check_positive('inner_lr', inner_lr, float)
        _check_positive('inner_steps', inner_steps, int)
        _check_positive('target_steps', target_steps, int)
        _check_positive('tasks_per_update', tasks_per_update, int)
        self.inner_lr = float(inner_lr)
        self.inner_steps = inner_steps
        self.target_steps = target_steps
        self.tasks_per_update = tasks_per_update
        self.hypergrad = build_hypergradient(hypergrad)
        if inner_params != 'all':
            if isinstance(inner_params, str) or not inner_params:
                raise ValueError("optim_wrapper.inner_params must be 'all' or a non-empty list of "
                                 f'regular expressions, got {inner_params!r}')
            inner_params = [re.compile(p) for p in inner_params]
        self.inner_params = inner_params
        self.amp_dtype = _amp_dtype(amp)
        self.tasks_accumulated = 0
        self.pending_error: Optional[Exception] = None
        self.large_steps = DoublingRateLimit()  # unclipped large updates (_warn_if_large)

    def adapted_names(self, names: Sequence[str]) -> List[str]:
        """The names among ``names`` that ``inner_params`` selects for inner steps."""
        if self.inner_params == 'all':
            return list(names)
        adapted = [n for n in names if any(p.match(n) for p in self.inner_params)]
        if not adapted:
            patterns = [p.pattern for p in self.inner_params]
            raise ValueError(f'optim_wrapper.inner_params={patterns} matches no parameter; '
                             f'parameter names look like {list(names)[:4]}')
        return adapted

    # ----------------------------------------------------------------- second level
    def should_update(self) -> bool:
        """Whether the next task's :meth:`update_params` completes an outer update."""
        return self.tasks_accumulated + 1 >= self.tasks_per_update

    def update_params(self, params: Dict[str, nn.Parameter], grads: Optional[Params] = None,
                      error: Optional[Exception] = None,
                      before_step: Optional[Callable[[], None]] = None) -> Optional[float]:
        """Add one task's hypergradient; apply the sum once ``tasks_per_update`` are in.

        A task that failed (``error``) stops training at once in one process. Under
        torch.distributed a rank must not stop alone (the others would wait for it in the
        update's all-reduce forever): the error is kept and the update raises it on every
        rank, after the all-reduce, before anything changes.

        Args:
            params: name -> outer parameter.
            grads: name -> the task's hypergradient.
            error: why the task failed (a :class:`NonFiniteError`), or None.
            before_step: run once the update's tasks are all in, right before its
                all-reduce (GeSSL's live pass).

        Returns:
            The norm of the applied hypergradient (before clipping), or None if the update
            is not complete yet.

        Raises:
            NonFiniteError: a task's loss or the hypergradient is not finite, on this or
                another rank (or a hypergradient solve failed: :class:`HypergradientError`
                on its rank); nothing is updated.
        """
        if grads is None:  # a plain model's train_step: update_params(loss)
            raise RuntimeError('BiLevelOptimWrapper does not take a loss to backpropagate: it '
                               "is driven by GeSSL.train_step (model type='GeSSL').")
        if error is not None:
            if get_world_size() == 1:
                raise error
            self.pending_error = self.pending_error or error
        for name, param in params.items():
            grad = grads[name].detach()
            if param.grad is None:
                param.grad = grad
            else:
                param.grad.add_(grad)
        self.tasks_accumulated += 1
        if self.tasks_accumulated < self.tasks_per_update:
            return None
        if before_step is not None:
            before_step()
        return self._apply_update()

    def _apply_update(self) -> float:
        """Average the summed hypergradient across ranks (the update's only collective),
        check it, clip it and step. Without ``clip_grad``, a step longer than
        :data:`LARGE_STEP_RATIO` of the weights' norm is logged as a warning."""
        params = [p for group in self.optimizer.param_groups for p in group['params']
                  if p.grad is not None]
        grads = [p.grad for p in params]
        if self._average_across_ranks(grads):
            raise self.pending_error or NonFiniteError(_OTHER_RANK_FAILED)
        norms = [torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))]
        clipped = bool(getattr(self, 'clip_grad_kwargs', None))
        if not clipped:
            norms.append(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(params))))
        norms = torch.stack(norms).tolist()  # the update's one host sync
        norm = norms[0]
        if not math.isfinite(norm):
            raise NonFiniteError(
                f'the hypergradient of this outer update is {norm}; the weights were not '
                f'updated. Lower optim_wrapper.inner_lr (now {self.inner_lr}) or try '
                "hypergrad=dict(type='cg').")
        if not clipped:
            self._warn_if_large(norm, norms[1])
        self.message_hub.update_scalar('train/hypergrad_norm', norm)
        self.step()
        self.zero_grad()
        self.tasks_accumulated = 0
        return norm

    def _warn_if_large(self, norm: float, weight_norm: float) -> None:
        """Warn about an unclipped step that is large against the weights (rate-limited:
        the 1st, 2nd, 4th, 8th, ... such update)."""
        lr = max(group['lr'] for group in self.optimizer.param_groups)
        if lr * norm <= LARGE_STEP_RATIO * weight_norm:
            return
        if not self.large_steps.record():
            return
        print_log(
            f'GeSSL: an unclipped outer step of lr * ||hypergradient|| = {lr:.3g} * '
            f'{norm:.4g} = {lr * norm:.4g} against weights of norm {weight_norm:.4g} (large '
            f'update {self.large_steps.count} so far): steps this large wreck the network. Set '
            'optim_wrapper.clip_grad=dict(max_norm=10) (configs/_base_/gessl.py), or lower '
            f'optim_wrapper.inner_lr (now {self.inner_lr}) or the outer lr.',
            logger='current', level=logging.WARNING)

    def _average_across_ranks(self, grads: List[torch.Tensor]) -> bool:
        """Average ``grads`` over ranks in one coalesced all-reduce, with a failure flag.

        Returns:
            Whether any rank deferred an error.
        """
        failed = self.pending_error is not None
        world_size = get_world_size()
        if world_size == 1:
            return failed
        flat = torch.cat([g.reshape(-1) for g in grads] +
                         [grads[0].new_tensor([float(failed)])])
        torch_dist.all_reduce(flat)
        flat /= world_size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()
        return bool(flat[-1] > 0)

    def synchronize_partial_update(self) -> None:
        """Average the hypergradient of an outer update still in progress across ranks.

        :class:`GeSSLDistributedWrapper` calls it after every iteration that ends inside an
        update, so that every rank holds the same partial sum: the checkpoint that rank 0
        writes then resumes every rank exactly (the update's all-reduce averages the ranks'
        remaining tasks on top, the same mean). One all-reduce per such iteration; updates
        that end with their iteration need none.

        Raises:
            NonFiniteError: a task failed on this or another rank; nothing is updated.
        """
        if not self.tasks_accumulated or get_world_size() == 1:
            return
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if self._average_across_ranks(grads):
            raise self.pending_error or NonFiniteError(_OTHER_RANK_FAILED)

    # ------------------------------------------------------------------- plumbing
    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast the forward passes when ``amp`` is on."""
        if self.amp_dtype is None:
            yield
            return
        device = next(model.parameters()).device.type
        with torch.autocast(device_type=device, dtype=self.amp_dtype):
            yield

    def state_dict(self) -> dict:
        """The optimizer state plus the hypergradient accumulated so far in this update."""
        state = super().state_dict()
        params = [p for group in self.optimizer.param_groups for p in group['params']]
        state['bilevel'] = dict(
            tasks_accumulated=self.tasks_accumulated,
            grads=[None if p.grad is None or not self.tasks_accumulated else p.grad.clone()
                   for p in params])
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        bilevel = state_dict.pop('bilevel', None)
        super().load_state_dict(state_dict)
        if bilevel is None:
            return
        self.tasks_accumulated = bilevel['tasks_accumulated']
        params = [p for group in self.optimizer.param_groups for p in group['params']]
        for param, grad in zip(params, bilevel['grads']):
            param.grad = None if grad is None else grad.to(param.device)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(inner_lr={self.inner_lr}, inner_steps='
                f'{self.inner_steps}, target_steps={self.target_steps}, tasks_per_update='
                f'{self.tasks_per_update}, hypergrad={self.hypergrad!r}, '
                f'optimizer={self.optimizer})')


def _check_positive(key: str, value, kind: type) -> None:
    valid_type = isinstance(value, (int, float) if kind is float else int)
    if isinstance(value, bool) or not valid_type or value <= 0:
        raise ValueError(f'optim_wrapper.{key} must be a positive {kind.__name__}, '
                         f'got {value!r}')


def _amp_dtype(amp: Union[bool, dict]) -> Optional[torch.dtype]:
    if amp is False or amp is None:
        return None
    name = 'bfloat16' if amp is True else dict(amp).get('dtype', 'bfloat16')
    if name not in ('bfloat16', 'float16'):
        raise ValueError(f"optim_wrapper.amp.dtype must be 'bfloat16' or 'float16', got {name!r}")
    return getattr(torch, name)
