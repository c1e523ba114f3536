"""GeSSL: explicitly modeling generality into self-supervised learning (ICML 2024)."""
import contextlib
import inspect
import logging
import time
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmpretrain.models import MAE, SwAV
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torch.func import functional_call

from gessl_mm.engine.optimizers import BiLevelOptimWrapper, HypergradientError, NonFiniteError
from gessl_mm.engine.optimizers.hypergrad import Params

from ..data_preprocessors import SSLTask
from ..losses import build_outer_loss, kl_loss
from ..task_heads import BaseTaskHead
from ..utils import FrozenModules, SideEffectGuard, pool_features
from ..utils.frozen_modules import PREFIX as FROZEN_PREFIX

_PREPROCESSOR_KEYS = ('mean', 'std', 'to_rgb', 'bgr_to_rgb', 'rgb_to_bgr', 'pad_size_divisor',
                      'pad_value', 'non_blocking')
_COMPATIBLE_PREPROCESSORS = ('TaskDataPreprocessor', 'SelfSupDataPreprocessor')
# A task's first level "raised" its inner loss when it grew by more than this fraction (float
# rounding of a tiny step stays far below it); train_step warns when at least
# INNER_LOSS_RISE_WARN of an iteration's tasks did.
INNER_LOSS_RISE_RTOL = 1e-4
INNER_LOSS_RISE_WARN = 0.5


@MODELS.register_module()
class GeSSL(BaseModel):
    """GeSSL around any mmpretrain self-supervised algorithm.

    Each batch is split into B-way tasks (:class:`TaskDataPreprocessor`). For every task,
    :meth:`train_step` adapts the model K steps on the base algorithm's own loss (first
    level), takes ``lambda - 1`` further detached steps to get the self-motivated target,
    and measures ``outer_loss(pi_target, pi_adapted)`` between the task's class
    distributions given by ``task_head``. :class:`BiLevelOptimWrapper` turns that into a
    hypergradient w.r.t. the original weights and steps every ``tasks_per_update`` tasks.

    Args:
        base: config of the wrapped self-supervised algorithm, e.g. ``dict(type='SimCLR',
            ...)``. A ``data_preprocessor`` inside it provides the defaults of this model's.
        task_head: config of the head that gives pi.
        outer_loss: ``'kl'`` (the paper's), ``'mse'``, ``'ce'`` or ``'wasserstein'``.
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
                 outer_loss: str = 'kl',
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
        self.outer_loss_name = outer_loss
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
        self.guard = SideEffectGuard(self.base)
        self._averaged_modules = {n: m for n, m in self.base.named_modules()
                                  if m in self.guard.averaged}
        # functional_call's tie_weights: only for a parameter that two modules share. A
        # module registered under two names (SwAVNeck's `norm`, also in `projection_neck`)
        # sees the new value under both anyway, and tie_weights would leave the swapped-in
        # tensor in the module after the call (torch restores the alias from itself).
        self._tied_weights = _shares_parameters(self.base)
        # Masked image models take one batch of images, the others a list of views.
        self._single_view_base = isinstance(self.base, MAE)
        self._backbone_kwargs = (
            dict(mask=None)
            if 'mask' in inspect.signature(self.base.backbone.forward).parameters else {})
        self.inner_loss_rises = 0  # iterations warned about by _warn_if_inner_loss_rises

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
        """One GeSSL training iteration: every task of the batch, outer steps when due."""
        if not isinstance(optim_wrapper, BiLevelOptimWrapper):
            raise TypeError("GeSSL must be trained with optim_wrapper=dict(type="
                            f"'BiLevelOptimWrapper', ...), got {type(optim_wrapper).__name__}")
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        if self.memory_format is torch.channels_last:
            inputs = [v.contiguous(memory_format=torch.channels_last) for v in inputs]
        tasks = self.data_preprocessor.split_tasks(inputs, data.get('data_samples'))
        params = {n: p for n, p in self.base.named_parameters() if p.requires_grad}
        adapted = optim_wrapper.adapted_names(list(params))
        stats: List[Dict[str, Tensor]] = []
        for task in tasks:
            seed = int(torch.randint(2**62, ()))
            last = optim_wrapper.tasks_accumulated + 1 >= optim_wrapper.tasks_per_update
            live_in_task = last and self._live_pass_in_recording(adapted)
            with self.guard.muted(), optim_wrapper.optim_context(self):
                grads, task_stats = self._learn_task(task, seed, params, adapted, optim_wrapper,
                                                     live_in_task)
            if 'error' in task_stats:
                error = task_stats.pop('error')
                error = NonFiniteError(error) if isinstance(error, str) else error
                if get_world_size() == 1:
                    raise error
                optim_wrapper.defer_error(error)
            optim_wrapper.accumulate(params, grads)
            if optim_wrapper.update_ready and not live_in_task:
                self._plain_pass(task, seed)
            optim_wrapper.step_if_ready()  # the update's one collective
            stats.append(task_stats)
        log_vars = {k: torch.stack([s[k] for s in stats]).mean() for k in stats[0]}
        log_vars['loss'] = torch.stack([s['outer_loss'] for s in stats]).sum()
        if 'inner_loss_rise' in log_vars:
            self._warn_if_inner_loss_rises(log_vars, len(stats), optim_wrapper)
        return log_vars

    def _warn_if_inner_loss_rises(self, log_vars: Dict[str, Tensor], num_tasks: int,
                                  optim_wrapper: BiLevelOptimWrapper) -> None:
        """Warn when the first level raised the inner loss in most tasks of an iteration
        (rate-limited: the 1st, 2nd, 4th, 8th, ... such iteration)."""
        share, change = torch.stack([log_vars['inner_loss_rise'],
                                     log_vars['inner_loss_change']]).tolist()
        if share < INNER_LOSS_RISE_WARN:
            return
        self.inner_loss_rises += 1
        if self.inner_loss_rises & (self.inner_loss_rises - 1):
            return
        print_log(
            f'GeSSL: the first-level step raised the inner loss in {round(share * num_tasks)} '
            f'of {num_tasks} tasks of this iteration (mean change {change:+.4g}; '
            f'{self.inner_loss_rises} such iteration(s) so far; logged as inner_loss_rise '
            f'and inner_loss_change). A gradient step that raises its own loss means '
            f'optim_wrapper.inner_lr={optim_wrapper.inner_lr} is past the stable step size '
            'for these weights: the adapted model and the target are worse than theta and '
            'the hypergradient can explode. Lower optim_wrapper.inner_lr.',
            logger='current', level=logging.WARNING)

    def _learn_task(self, task: SSLTask, seed: int, params: Dict[str, Tensor],
                    adapted: List[str], optim_wrapper: BiLevelOptimWrapper,
                    live_recording: bool = False) -> Tuple[Params, Dict[str, Tensor]]:
        """First level, target, second level and hypergradient for one task (muted).

        With ``live_recording`` the frozen modules' recording pass is also the outer
        update's live pass (see :meth:`_live_pass_in_recording`).
        """
        timer = _Timer(task.support[0].device)
        head_params = self.task_head.task_params(
            task.num_classes, self._embed_dim(params, task), task.support[0])
        frozen = self._frozen_modules(adapted)
        inner_loss_fn = self._inner_loss_fn(task, seed, frozen)
        theta = {**params, **head_params}
        frozen_params = {}
        if frozen is not None:
            # The frozen modules' one forward (the backbone's with its graph to theta).
            with frozen.recording('loss'), \
                    self.guard.live() if live_recording else contextlib.nullcontext():
                inner_loss_fn(theta)
            with frozen.recording('embed'):
                self._task_logits(theta, task, frozen)
            frozen_params = {n: theta.pop(n) for n in list(theta) if n.startswith('backbone.')
                             and 'backbone' in frozen.modules}
            theta.update(frozen.leaves)
        adapted = adapted + list(head_params)

        trajectory = optim_wrapper.adapt(theta, inner_loss_fn, adapted,
                                         keep_grads=self.ssl_loss_weight > 0)
        time_inner = timer.lap()
        target = optim_wrapper.self_motivated_target(trajectory, inner_loss_fn)
        with torch.no_grad():
            target_logits = self._task_logits(target.final, task, frozen)
        time_target = timer.lap()

        record = {}

        def outer_loss_fn(point: Params) -> Tensor:
            logits = self._task_logits(point, task, frozen)
            loss = self.outer_loss(target_logits, logits)
            record['outer_loss'] = loss.detach()
            record['kl'] = loss.detach() if self.outer_loss is kl_loss else \
                kl_loss(target_logits, logits.detach())
            return loss

        laps = []
        solve_error = None
        try:
            grads = optim_wrapper.hypergradient(theta, inner_loss_fn, outer_loss_fn,
                                                trajectory,
                                                on_outer_grad=lambda: laps.append(timer.lap()))
        except HypergradientError as exc:  # raised (or deferred) by train_step
            solve_error = exc
            grads = {n: torch.zeros_like(p) for n, p in params.items()}
        if self.ssl_loss_weight and solve_error is None:
            ssl_grads = trajectory.grads[0]
            grads = {n: grads[n] + self.ssl_loss_weight * ssl_grads[n] for n in theta}
        if frozen_params and solve_error is None:
            grads.update(frozen.backward(grads, frozen_params))
        time_hypergrad = timer.lap()
        grads = {n: grads[n] for n in params}
        error = self._check_finite(trajectory.losses, target.losses, record['outer_loss'],
                                   grads) or solve_error
        stats = dict(inner_loss_before=trajectory.losses[0], outer_loss=record['outer_loss'],
                     kl=record['kl'], time_inner=time_inner, time_target=time_target,
                     time_outer=laps[0], time_hypergrad=time_hypergrad)
        if target.losses:
            # The first level's effect on its own loss: a rise means alpha is past the
            # stable step size (train_step warns when most tasks rise).
            before, after = trajectory.losses[0], target.losses[0]
            stats['inner_loss_after'] = after
            stats['inner_loss_change'] = after - before
            stats['inner_loss_rise'] = (after - before > INNER_LOSS_RISE_RTOL *
                                        before.abs()).float()
        if error is not None:
            stats['error'] = error
        return grads, stats

    def _frozen_modules(self, adapted: List[str]) -> Optional[FrozenModules]:
        """The modules this task's inner loop leaves unchanged, to run once (or None)."""
        if not self.cache_frozen_modules:
            return None
        modules = dict(self._averaged_modules)
        backbone_frozen = not any(n.startswith('backbone.') for n in adapted)
        if backbone_frozen:
            modules['backbone'] = self.base.backbone
        if not modules:
            return None
        # Masked image models embed with mask=None, not as in their loss: no sharing.
        share = backbone_frozen and not self._backbone_kwargs
        return FrozenModules(modules, lookup='backbone' if share else None)

    # ---------------------------------------------------------- functional passes
    def _base_inputs(self, task: SSLTask):
        """The support views in the form the base algorithm's ``loss`` takes."""
        return torch.cat(task.support) if self._single_view_base else task.support

    def _inner_loss_fn(self, task: SSLTask, seed: int, frozen: Optional[FrozenModules]):
        """The task's inner loss as a deterministic function of the parameters.

        Every evaluation is muted (no side effects) and replays the same random state
        (masks, dropout), so that repeated steps and finite differences see one function.
        ``frozen`` modules return their recorded outputs.
        """
        views = self._base_inputs(task)

        def inner_loss_fn(point: Params) -> Tensor:
            base_params, head_params = self._split(point)
            with self.guard.call(), _replayed_rng(seed, views), \
                    _using(frozen, 'loss', point):
                losses = functional_call(self.base, base_params, (views, task.data_samples),
                                         dict(mode='loss'), tie_weights=self._tied_weights)
                loss, _ = self.base.parse_losses(losses)
                if head_params:
                    support = self._embed(base_params, task.support, frozen, point)
                    loss = loss + self.task_head.inner_loss(support, head_params)
            return loss

        return inner_loss_fn

    def _live_pass_in_recording(self, adapted: List[str]) -> bool:
        """Whether the heads-only mode's one backbone forward at theta can be the update's
        live pass, saving the separate plain pass.

        It can unless the base keeps a queue (MoCo, SwAV): the live pass writes this task's
        keys into it, and the task's later passes, which read the queue, would then meet
        their own positives as negatives. A momentum encoder's update is harmless here: it
        is a frozen module, so the task's later passes replay the outputs recorded in this
        same pass (and a plain step of BYOL or MoCo v3 also reads its target after the
        update).
        """
        guard = self.guard
        return (self.cache_frozen_modules and not any(n.startswith('backbone.') for n in adapted)
                and not (guard.enqueuers or guard.queue_holders))

    def _plain_pass(self, task: SSLTask, seed: int) -> None:
        """The outer update's one live pass: a forward of the base algorithm's loss at theta,
        without graph, so momentum encoders, queues and BatchNorm statistics advance once,
        as in a plain training step. It runs on the update's last task, after all its
        hypergradients and before the step, so every task of the update saw one state (and
        on every rank at once, as its collectives need)."""
        views = self._base_inputs(task)
        with torch.no_grad(), self.guard.live(), _replayed_rng(seed, views):
            self.base.loss(views, task.data_samples)

    def _embed(self, base_params: Params, views: List[Tensor],
               frozen: Optional[FrozenModules] = None, point: Optional[Params] = None
               ) -> Tensor:
        """Embeddings read by the task head for stacked ``views``: (V, B, D).

        Views of one size go through the network in one batch (multi-crop: one per size).
        With a frozen backbone, images that the base loss already encoded reuse its
        features.
        """
        backbone_params = {n[9:]: p for n, p in base_params.items() if n.startswith('backbone.')}
        neck_params = {n[5:]: p for n, p in base_params.items() if n.startswith('neck.')}
        groups = [[views[0]]]
        for view in views[1:]:
            if view.shape == groups[-1][-1].shape:
                groups[-1].append(view)
            else:
                groups.append([view])
        embeddings = []
        with self.guard.call():
            for group in groups:
                out = frozen.lookup(group, point) if frozen is not None else None
                if out is None:
                    out = functional_call(self.base.backbone, backbone_params,
                                          (torch.cat(group), ),
                                          self._backbone_kwargs,
                                          tie_weights=self._tied_weights)
                if self.task_head.feature == 'neck':
                    neck_input = [out] if isinstance(self.base, SwAV) else out
                    out = functional_call(self.base.neck, neck_params, (neck_input, ),
                                          tie_weights=self._tied_weights)
                embeddings.append(pool_features(out).unflatten(0, (len(group), -1)))
        return torch.cat(embeddings)

    def _task_logits(self, point: Params, task: SSLTask,
                     frozen: Optional[FrozenModules] = None) -> Tensor:
        base_params, head_params = self._split(point)
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
        with torch.no_grad(), self.guard.muted():
            return self._embed(params, [task.support[0][:2]]).shape[-1]

    @staticmethod
    def _split(point: Params) -> Tuple[Params, Params]:
        """Base algorithm's and task head's parameters; frozen modules' leaves are neither."""
        base, head = {}, {}
        for name, value in point.items():
            if name.startswith('task_head.'):
                head[name] = value
            elif not name.startswith(FROZEN_PREFIX):
                base[name] = value
        return base, head

    @staticmethod
    def _check_finite(inner: List[Tensor], target: List[Tensor], outer: Tensor,
                      grads: Optional[Params] = None) -> Optional[str]:
        """The error message naming the first non-finite loss of a task, or None.

        With ``grads``, the task's hypergradient is checked too (in the same host sync).
        """
        values = [*inner, *target, outer]
        if grads:
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
            return (f'GeSSL: the hypergradient of a task is not finite (norm '
                    f'{losses[bad].item()}) although its losses are; training stopped '
                    'before the weights were updated. Lower optim_wrapper.inner_lr or the '
                    "outer lr, or use another optim_wrapper.hypergrad (e.g. type='cg').")
        return (f'GeSSL: non-finite loss ({losses[bad].item()}) at {where} of a task; '
                'training stopped before the weights were updated. Lower '
                'optim_wrapper.inner_lr or the outer lr, or check the data.')


def _shares_parameters(module: nn.Module) -> bool:
    """Whether two distinct submodules of ``module`` hold the same parameter."""
    owners: Dict[int, nn.Module] = {}
    for submodule in module.modules():  # each module object once, however often registered
        for param in submodule._parameters.values():
            if param is not None and owners.setdefault(id(param), submodule) is not submodule:
                return True
    return False


def _using(frozen: Optional[FrozenModules], stream: str, point: Params):
    return frozen.using(stream, point) if frozen is not None else contextlib.nullcontext()


class _replayed_rng:
    """Run a block under a fixed random state and restore the global state afterwards."""

    def __init__(self, seed: int, like) -> None:
        tensor = like[0] if isinstance(like, list) else like
        self.devices = [tensor.device] if tensor.is_cuda else []
        self.seed = seed

    def __enter__(self):
        self.fork = torch.random.fork_rng(devices=self.devices)
        self.fork.__enter__()
        # The generators of this task's devices only: torch.manual_seed would also queue
        # seeds for every uninitialised accelerator API, a noticeable cost per pass on CPU.
        torch.default_generator.manual_seed(self.seed)
        for device in self.devices:
            index = torch.cuda.current_device() if device.index is None else device.index
            torch.cuda.default_generators[index].manual_seed(self.seed)

    def __exit__(self, *exc):
        return self.fork.__exit__(*exc)


class _Timer:
    """Wall time of consecutive stages (synchronising CUDA so the split is real)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'
        self.last = time.perf_counter()

    def lap(self) -> Tensor:
        if self.cuda:
            torch.cuda.synchronize()
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return torch.tensor(elapsed)
