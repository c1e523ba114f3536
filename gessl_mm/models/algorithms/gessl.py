"""GeSSL: explicitly modeling generality into self-supervised learning (ICML 2024)."""
import contextlib
import enum
import functools
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from torch import Tensor

from gessl_mm.engine.errors import NonFiniteError
from gessl_mm.engine.hypergradients import (
    InnerTrajectory,
    Params,
    gradient_descent,
    self_motivated_target,
)
from gessl_mm.engine.optimizers import BiLevelOptimWrapper
from gessl_mm.utils.pooling import pool_features
from gessl_mm.utils.rate_limit import DoublingRateLimit

from ..adapters import build_adapter
from ..data_preprocessors import SSLTask
from ..losses import build_outer_loss, kl_loss
from ..task_heads import BaseTaskHead
from ..utils import FrozenModules, ReplayedRNG, StageTimer, same_shape_groups
from ..utils.frozen_modules import PREFIX as FROZEN_PREFIX

_PREPROCESSOR_KEYS = ('mean', 'std', 'to_rgb', 'bgr_to_rgb', 'rgb_to_bgr', 'pad_size_divisor',
                      'pad_value', 'non_blocking')
_COMPATIBLE_PREPROCESSORS = ('TaskDataPreprocessor', 'SelfSupDataPreprocessor')
HEAD_PREFIX = 'task_head.'  # the task head's parameters among a task's weights
# A task's first level "raised" its inner loss when it grew by more than this fraction (float
# rounding of a tiny step stays far below it); train_step warns when at least
# INNER_LOSS_RISE_WARN of an iteration's tasks did.
INNER_LOSS_RISE_RTOL = 1e-4
INNER_LOSS_RISE_WARN = 0.5


class LivePass(enum.Enum):
    """Where a task runs the outer update's live pass (see :meth:`GeSSL._live_pass_of`)."""
    NONE = 'none'
    RECORDING = 'recording'
    SEPARATE = 'separate'


@dataclass
class TaskProblem:
    """A task as a bi-level problem over its weights ``theta``.

    Attributes:
        theta: the base's weights (a frozen backbone's replaced by its recorded outputs'
            leaves) and the task head's task-local weights.
        adapted: the names of ``theta`` that take inner steps.
        frozen: the modules run once for this task, or None.
        frozen_params: the backbone weights behind ``frozen``'s leaves.
    """
    theta: Params
    adapted: List[str]
    frozen: Optional[FrozenModules] = None
    frozen_params: Params = field(default_factory=dict)


@dataclass
class TaskResult:
    """One task's hypergradient w.r.t. the model's weights, why it failed, and its logs."""
    grads: Params
    error: Optional[NonFiniteError]
    logs: Dict[str, Tensor]


@MODELS.register_module()
class GeSSL(BaseModel):
    """GeSSL around any mmpretrain self-supervised algorithm.

    Each batch is split into B-way tasks (:class:`TaskDataPreprocessor`). For every task,
    :meth:`train_step` adapts the model K steps on the base algorithm's own loss (first
    level), takes ``lambda - 1`` further detached steps to get the self-motivated target,
    and differentiates ``outer_loss(pi_target, pi_adapted)`` between the task's class
    distributions given by ``task_head`` w.r.t. the original weights (second level, by
    ``optim_wrapper.hypergrad``). :class:`BiLevelOptimWrapper` sums the hypergradients and
    steps every ``tasks_per_update`` tasks. What the step must know about the base
    algorithm is in its adapter (:mod:`gessl_mm.models.adapters`).

    Args:
        base: config of the wrapped self-supervised algorithm, e.g. ``dict(type='SimCLR',
            ...)``. A ``data_preprocessor`` inside it provides the defaults of this model's.
        task_head: config of the head that gives pi.
        outer_loss: ``'kl'`` (the paper's), ``'mse'``, ``'ce'`` or ``'wasserstein'``, or
            ``dict(type=NAME, **options)``.
        ssl_loss_weight: a variant, not in the paper: each task's outer objective becomes
            ``outer_loss + ssl_loss_weight * L(theta)``, ``L`` the task's first-level loss
            (the base method's SSL loss) at the original weights. Its gradient is the first
            inner step's, so it costs no extra pass. 0 (default) is the paper's pure KL.
        data_preprocessor: a :class:`TaskDataPreprocessor` config.
        cache_frozen_modules: run what a task's inner loop leaves unchanged once per task
            and replay it: momentum encoders always, the backbone when ``inner_params``
            does not adapt it (the fast mode). Exact; off only to debug a base algorithm
            whose calls vary between evaluations.
        channels_last: keep convolution weights and images in channels-last memory
            format (faster convolutions on recent CPUs and GPUs). Off by default; see
            docs/benchmarks.md.
        compile: ``torch.compile`` the backbone: False, True, or the keyword arguments of
            ``torch.compile`` (e.g. ``dict(mode='max-autotune')``). The first steps pay the
            compilation (minutes on CPU). Off by default; see docs/benchmarks.md.
        init_cfg: initialisation config.
    """

    def __init__(self,
                 base: dict,
                 task_head: Optional[dict] = None,
                 outer_loss: Union[str, dict] = 'kl',
                 ssl_loss_weight: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 cache_frozen_modules: bool = True,
                 channels_last: bool = False,
                 compile: Union[bool, dict] = False,
                 init_cfg: Optional[dict] = None) -> None:
        base = dict(base)
        preprocessor = {k: v for k, v in (base.pop('data_preprocessor', None) or {}).items()
                        if k in _PREPROCESSOR_KEYS}
        preprocessor.update(data_preprocessor or {})
        # A plain SSL config's SelfSupDataPreprocessor (e.g. set by the Runner from the
        # dataset config) provides the normalisation; GeSSL adds the task split.
        if preprocessor.get('type', 'TaskDataPreprocessor') not in _COMPATIBLE_PREPROCESSORS:
            raise TypeError("model.data_preprocessor must be dict(type='TaskDataPreprocessor', "
                            f"...), got type={preprocessor['type']!r}")
        preprocessor['type'] = 'TaskDataPreprocessor'
        super().__init__(data_preprocessor=MODELS.build(preprocessor), init_cfg=init_cfg)

        self.base = MODELS.build(base)
        if not isinstance(self.base, BaseSelfSupervisor):
            raise TypeError(f"model.base.type={base.get('type')!r} is not a self-supervised "
                            'algorithm (an mmpretrain BaseSelfSupervisor such as SimCLR, BYOL, '
                            'MoCo or MAE)')
        self.task_head: BaseTaskHead = MODELS.build(task_head or dict(type='PrototypeTaskHead'))
        if not isinstance(self.task_head, BaseTaskHead):
            raise TypeError(f'model.task_head must be a BaseTaskHead, got '
                            f'{type(self.task_head).__name__}')
        if self.task_head.feature == 'neck' and not self.base.with_neck:
            raise ValueError("model.task_head.feature='neck' but the base algorithm has no "
                             "neck: use feature='backbone'")
        self.outer_loss = build_outer_loss(outer_loss)
        if isinstance(ssl_loss_weight, bool) or not isinstance(ssl_loss_weight, (int, float)) \
                or not ssl_loss_weight >= 0:
            raise ValueError('model.ssl_loss_weight must be a number >= 0, got '
                             f'{ssl_loss_weight!r}')
        self.ssl_loss_weight = float(ssl_loss_weight)
        self.cache_frozen_modules = cache_frozen_modules
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.base.to(memory_format=torch.channels_last)
        if compile:
            if not isinstance(compile, (bool, dict)):
                raise TypeError(f'model.compile must be a bool or a dict of torch.compile '
                                f'arguments, got {compile!r}')
            self.base.backbone.compile(**(compile if isinstance(compile, dict) else {}))
        self.adapter = build_adapter(self.base)
        self.inner_loss_rises = DoublingRateLimit()  # iterations where most tasks' loss rose

    # ------------------------------------------------------------ plain behaviour
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """As the base algorithm's forward (``'tensor'`` and ``'loss'``)."""
        return self.base(inputs, data_samples, mode=mode)

    def extract_feat(self, inputs: Tensor):
        return self.base.extract_feat(inputs)

    @property
    def head(self):
        """The base algorithm's head, for hooks that reach it as ``model.head``
        (mmpretrain's ``SwAVHook`` installs SwAV's queue there)."""
        return self.base.head

    # ---------------------------------------------------------------- the step
    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: BiLevelOptimWrapper) -> Dict[str, Tensor]:
        """One GeSSL training iteration: learn every task of the batch; the optimizer
        wrapper steps when an outer update has all its tasks."""
        if not isinstance(optim_wrapper, BiLevelOptimWrapper):
            raise TypeError("GeSSL must be trained with optim_wrapper=dict(type="
                            f"'BiLevelOptimWrapper', ...), got {type(optim_wrapper).__name__}")
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        if self.memory_format is torch.channels_last:
            inputs = [v.contiguous(memory_format=torch.channels_last) for v in inputs]
        tasks = self.data_preprocessor.split_tasks(inputs, data.get('data_samples'))
        params = self._outer_params()
        adapted = optim_wrapper.adapted_names(list(params))
        logs = []
        for task in tasks:
            seed = int(torch.randint(2**62, ()))
            live_pass = self._live_pass_of(adapted, optim_wrapper.should_update())
            result = self.learn_task(task, optim_wrapper, seed,
                                     live_pass_in_recording=live_pass is LivePass.RECORDING)
            plain_pass = functools.partial(self._plain_pass, task, seed) \
                if live_pass is LivePass.SEPARATE else None
            optim_wrapper.update_params(params, result.grads, result.error,
                                        before_step=plain_pass)
            logs.append(result.logs)
        return self._log_vars(logs, optim_wrapper)

    def _live_pass_of(self, adapted: List[str], completes_update: bool) -> 'LivePass':
        """Where the outer update's one live pass runs, if this task completes it: in the
        heads-only mode's one backbone forward at theta (``RECORDING``), or as a separate
        plain pass right before the step (``SEPARATE``); ``NONE`` if no update is due.

        The live pass is a forward of the base's loss at theta that may act as a plain
        training step (momentum encoders, queues, BatchNorm statistics advance once). It
        runs on the update's last task, after all its hypergradients and before the step,
        so every task of the update saw one state (and on every rank at once, as its
        collectives need). Recording can be it unless the base keeps a queue
        (:attr:`SSLAdapter.live_pass_may_record`).
        """
        if not completes_update:
            return LivePass.NONE
        if self.cache_frozen_modules and not any(n.startswith('backbone.') for n in adapted) \
                and self.adapter.live_pass_may_record:
            return LivePass.RECORDING
        return LivePass.SEPARATE

    def learn_task(self, task: SSLTask, optim_wrapper: BiLevelOptimWrapper, seed: int = 0,
                   live_pass_in_recording: bool = False) -> TaskResult:
        """First level, self-motivated target, second level and hypergradient of one task.

        Nothing of the model changes: every pass is muted, except, with
        ``live_pass_in_recording``, the heads-only mode's recording pass, which then is the
        outer update's live pass (see :meth:`_live_pass_of`).

        Args:
            task: the task (normalised views).
            optim_wrapper: the bi-level settings (inner lr and steps, hypergradient method).
            seed: the random state of every evaluation of the task's inner loss.
            live_pass_in_recording: let the recording pass act as a plain training step.

        Returns:
            TaskResult: the hypergradient w.r.t. every trainable weight of the base, the
            error that makes it unusable (a non-finite loss or a failed solve) or None, and
            the task's logged values.
        """
        with self.adapter.muted(), optim_wrapper.optim_context(self):
            return self._learn_task(task, seed, optim_wrapper, live_pass_in_recording)

    def _learn_task(self, task: SSLTask, seed: int, optim_wrapper: BiLevelOptimWrapper,
                    live_in_recording: bool) -> TaskResult:
        params = self._outer_params()
        adapted = optim_wrapper.adapted_names(list(params))
        timer = StageTimer(task.support[0].device)
        head_params = {HEAD_PREFIX + n: p for n, p in self.task_head.task_params(
            task.num_classes, self._embed_dim(params, task), task.support[0]).items()}
        frozen = self._frozen_modules(adapted)
        inner_loss_fn = self._inner_loss_fn(task, seed, frozen)
        problem = self._task_problem(task, {**params, **head_params},
                                     adapted + list(head_params), frozen, inner_loss_fn,
                                     live_in_recording)
        hypergrad = optim_wrapper.hypergrad

        # First level: K steps from theta (through which `reverse` backpropagates).
        adapted_path = gradient_descent(
            problem.theta, inner_loss_fn, optim_wrapper.inner_lr, optim_wrapper.inner_steps,
            problem.adapted, create_graph=hypergrad.differentiates_inner_steps,
            keep_grads=self.ssl_loss_weight > 0 or hypergrad.keeps_inner_grads)
        time_inner = timer.lap()

        # Self-motivated target: lambda - 1 more steps, detached, and its class distribution.
        target = self_motivated_target(adapted_path, inner_loss_fn, optim_wrapper.inner_lr,
                                       optim_wrapper.target_steps - 1)
        with torch.no_grad():
            target_logits = self._task_logits(target.final, task, problem.frozen)
        time_target = timer.lap()

        # Second level: d outer_loss(pi_target, pi_adapted) / d theta.
        def outer_fn(point: Params) -> Tuple[Tensor, Tensor]:
            logits = self._task_logits(point, task, problem.frozen)
            return self.outer_loss(target_logits, logits), logits

        outer = hypergrad(problem.theta, inner_loss_fn, outer_fn, optim_wrapper.inner_lr,
                          adapted_path)
        time_outer = timer.lap(outer.outer_grad_time)
        grads = self._weight_grads(outer.grads, adapted_path, problem, params) \
            if outer.error is None else {n: torch.zeros_like(p) for n, p in params.items()}
        time_hypergrad = timer.lap()

        error = _non_finite(adapted_path.losses, target.losses, outer.outer_loss,
                            grads) or outer.error
        kl = outer.outer_loss if self.outer_loss is kl_loss else \
            kl_loss(target_logits, outer.outer_aux.detach())
        logs = dict(inner_loss_before=adapted_path.losses[0], outer_loss=outer.outer_loss,
                    kl=kl, time_inner=time_inner, time_target=time_target,
                    time_outer=time_outer, time_hypergrad=time_hypergrad)
        logs.update(_inner_loss_change(adapted_path, target))
        return TaskResult(grads, error, logs)

    def _outer_params(self) -> Dict[str, Tensor]:
        return {n: p for n, p in self.base.named_parameters() if p.requires_grad}

    def _task_problem(self, task: SSLTask, theta: Params, adapted: List[str],
                      frozen: Optional[FrozenModules], inner_loss_fn,
                      live_in_recording: bool) -> TaskProblem:
        """The task's weights ``theta`` (the base's and the task head's), with what the inner
        loop leaves unchanged (``frozen``) run once here and replaced by its outputs."""
        if frozen is None:
            return TaskProblem(theta, adapted)
        # The frozen modules' one forward (the backbone's with its graph to theta).
        with frozen.recording('loss'), \
                self.adapter.live() if live_in_recording else contextlib.nullcontext():
            inner_loss_fn(theta)
        with frozen.recording('embed'):
            self._task_logits(theta, task, frozen)
        frozen_params = {n: p for n, p in theta.items()
                         if n.startswith('backbone.') and 'backbone' in frozen.modules}
        theta = {n: p for n, p in theta.items() if n not in frozen_params}
        return TaskProblem({**theta, **frozen.leaves}, adapted, frozen, frozen_params)

    def _weight_grads(self, grads: Params, adapted_path: InnerTrajectory,
                      problem: TaskProblem, params: Params) -> Params:
        """The hypergradient w.r.t. the model's weights: the SSL term added, a frozen
        backbone's leaves' gradients sent back through its recorded pass."""
        if self.ssl_loss_weight:
            ssl_grads = adapted_path.grads[0]
            grads = {n: grads[n] + self.ssl_loss_weight * ssl_grads[n] for n in problem.theta}
        if problem.frozen_params:
            grads.update(problem.frozen.backward(grads, problem.frozen_params))
        return {n: grads[n] for n in params}

    def _frozen_modules(self, adapted: List[str]) -> Optional[FrozenModules]:
        """The modules this task's inner loop leaves unchanged, to run once (or None)."""
        if not self.cache_frozen_modules:
            return None
        modules = dict(self.adapter.frozen_modules)
        backbone_frozen = not any(n.startswith('backbone.') for n in adapted)
        if backbone_frozen:
            modules['backbone'] = self.base.backbone
        if not modules:
            return None
        share = backbone_frozen and self.adapter.loss_shares_backbone_call
        return FrozenModules(modules, lookup='backbone' if share else None)

    # ---------------------------------------------------------- functional passes
    def _inner_loss_fn(self, task: SSLTask, seed: int, frozen: Optional[FrozenModules]):
        """The task's inner loss as a deterministic function of the parameters.

        Every evaluation is muted (no side effects) and replays the same random state
        (masks, dropout), so that repeated steps and finite differences see one function.
        ``frozen`` modules return their recorded outputs.
        """
        inputs = self.adapter.loss_inputs(task)

        def inner_loss_fn(point: Params) -> Tensor:
            base_params, head_params = _split(point)
            with self.adapter.forward_pass(), ReplayedRNG(seed, inputs), \
                    _using(frozen, 'loss', point):
                loss = self.adapter.loss(base_params, inputs, task.data_samples)
                if head_params:
                    support = self._embed(base_params, task.support, frozen, point)
                    loss = loss + self.task_head.inner_loss(support, head_params)
            return loss

        return inner_loss_fn

    def _plain_pass(self, task: SSLTask, seed: int) -> None:
        """The outer update's live pass, when separate: a forward of the base's loss at
        theta, without graph (see :meth:`_live_pass_of`)."""
        inputs = self.adapter.loss_inputs(task)
        with torch.no_grad(), self.adapter.live(), ReplayedRNG(seed, inputs):
            self.base.loss(inputs, task.data_samples)

    def _embed(self, base_params: Params, views: List[Tensor],
               frozen: Optional[FrozenModules] = None, point: Optional[Params] = None
               ) -> Tensor:
        """Embeddings read by the task head for stacked ``views``: (V, B, D).

        Views of one size go through the network in one batch (multi-crop: one per size).
        With a frozen backbone, images that the base loss already encoded reuse its
        features.
        """
        backbone_params = _sub_params(base_params, 'backbone.')
        neck_params = _sub_params(base_params, 'neck.')
        embeddings = []
        with self.adapter.forward_pass():
            for group in same_shape_groups(views):
                out = frozen.lookup(group, point) if frozen is not None else None
                if out is None:
                    out = self.adapter.backbone_features(backbone_params, torch.cat(group))
                if self.task_head.feature == 'neck':
                    out = self.adapter.neck_features(neck_params, out)
                embeddings.append(pool_features(out).unflatten(0, (len(group), -1)))
        return torch.cat(embeddings)

    def _task_logits(self, point: Params, task: SSLTask,
                     frozen: Optional[FrozenModules] = None) -> Tensor:
        base_params, head_params = _split(point)
        views = task.support if task.query_is_support else task.support + task.query
        with _using(frozen, 'embed', point):
            emb = self._embed(base_params, views, frozen, point)
        num_support = len(task.support)
        support = emb[:num_support]
        query = support if task.query_is_support else emb[num_support:]
        return self.task_head.logits(support, query, head_params, task.query_is_support)

    def _embed_dim(self, params: Params, task: SSLTask) -> int:
        if not self.task_head.has_task_params:
            return 0
        with torch.no_grad(), self.adapter.muted():
            return self._embed(params, [task.support[0][:2]]).shape[-1]

    # ---------------------------------------------------------------- logging
    def _log_vars(self, logs: List[Dict[str, Tensor]],
                  optim_wrapper: BiLevelOptimWrapper) -> Dict[str, Tensor]:
        log_vars = {k: torch.stack([s[k] for s in logs]).mean() for k in logs[0]}
        log_vars['loss'] = torch.stack([s['outer_loss'] for s in logs]).sum()
        if 'inner_loss_rise' in log_vars:
            self._warn_if_inner_loss_rises(log_vars, len(logs), optim_wrapper)
        return log_vars

    def _warn_if_inner_loss_rises(self, log_vars: Dict[str, Tensor], num_tasks: int,
                                  optim_wrapper: BiLevelOptimWrapper) -> None:
        """Warn when the first level raised the inner loss in most tasks of an iteration
        (rate-limited: the 1st, 2nd, 4th, 8th, ... such iteration)."""
        share, change = torch.stack([log_vars['inner_loss_rise'],
                                     log_vars['inner_loss_change']]).tolist()
        if share < INNER_LOSS_RISE_WARN:
            return
        if not self.inner_loss_rises.record():
            return
        print_log(
            f'GeSSL: the first-level step raised the inner loss in {round(share * num_tasks)} '
            f'of {num_tasks} tasks of this iteration (mean change {change:+.4g}; '
            f'{self.inner_loss_rises.count} such iteration(s) so far; logged as inner_loss_rise '
            f'and inner_loss_change). A gradient step that raises its own loss means '
            f'optim_wrapper.inner_lr={optim_wrapper.inner_lr} is past the stable step size '
            'for these weights: the adapted model and the target are worse than theta and '
            'the hypergradient can explode. Lower optim_wrapper.inner_lr.',
            logger='current', level=logging.WARNING)


def _split(point: Params) -> Tuple[Params, Params]:
    """The base algorithm's and the task head's (own names) parameters of a point; frozen
    modules' leaves are neither."""
    base, head = {}, {}
    for name, value in point.items():
        if name.startswith(HEAD_PREFIX):
            head[name[len(HEAD_PREFIX):]] = value
        elif not name.startswith(FROZEN_PREFIX):
            base[name] = value
    return base, head


def _sub_params(params: Params, prefix: str) -> Params:
    """The parameters under ``prefix``, with their names relative to it."""
    return {n[len(prefix):]: p for n, p in params.items() if n.startswith(prefix)}


def _inner_loss_change(adapted_path: InnerTrajectory,
                       target: InnerTrajectory) -> Dict[str, Tensor]:
    """The first level's effect on its own loss: a rise means alpha is past the stable
    step size (train_step warns when most tasks rise)."""
    if not target.losses:
        return {}
    before, after = adapted_path.losses[0], target.losses[0]
    return dict(inner_loss_after=after, inner_loss_change=after - before,
                inner_loss_rise=(after - before > INNER_LOSS_RISE_RTOL * before.abs()).float())


def _non_finite(inner: List[Tensor], target: List[Tensor], outer: Tensor,
                grads: Params) -> Optional[NonFiniteError]:
    """The error naming the first non-finite loss of a task, or its non-finite
    hypergradient; None if all are finite (one host sync)."""
    values = [*inner, *target, outer]
    norms = torch._foreach_norm(list(grads.values()))
    values.append(torch.linalg.vector_norm(torch.stack(norms)).to(outer.dtype))
    losses = torch.stack(values)
    if torch.isfinite(losses).all():
        return None
    bad = int((~torch.isfinite(losses)).nonzero()[0])
    if bad < len(inner):
        where = f'inner step {bad + 1}'
    elif bad < len(inner) + len(target):
        where = f'target step {bad - len(inner) + 1}'
    elif bad == len(inner) + len(target):
        where = 'the outer loss'
    else:
        return NonFiniteError(
            f'GeSSL: the hypergradient of a task is not finite (norm {losses[bad].item()}) '
            'although its losses are; training stopped before the weights were updated. '
            'Lower optim_wrapper.inner_lr or the outer lr, or use another '
            "optim_wrapper.hypergrad (e.g. type='cg').")
    return NonFiniteError(
        f'GeSSL: non-finite loss ({losses[bad].item()}) at {where} of a task; training '
        'stopped before the weights were updated. Lower optim_wrapper.inner_lr or the outer '
        'lr, or check the data.')


def _using(frozen: Optional[FrozenModules], stream: str, point: Params):
    return frozen.using(stream, point) if frozen is not None else contextlib.nullcontext()
