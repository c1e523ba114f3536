"""Hypergradients of a bi-level problem whose inner level is K steps of gradient descent.

Notation: ``theta`` are the outer parameters, ``phi_0 = theta`` and
``phi_{k+1} = phi_k - alpha * grad L(phi_k)`` the inner steps on the inner loss ``L``, and
``F(phi_K)`` the outer loss. Every method returns ``dF(phi_K(theta)) / dtheta``, exactly
(``reverse``) or approximately (the others).

Only the parameters named in the trajectory's ``adapted`` take inner steps; the others stay
at ``theta`` in the inner loop but still receive their full hypergradient (their mixed
second-order terms included), so "adapt only the heads" is exact too.

Methods (the paper's Appendix G.4), one file each:

- ``first_order`` (:mod:`.first_order`): ``dF/dphi`` at ``phi_K`` applied to ``theta``.
- ``reverse`` (:mod:`.reverse`, ITD-RMAD): backpropagation through the K unrolled steps.
- ``finite_diff`` (:mod:`.finite_diff`, AID-FD): the same chain rule, with each
  Hessian-vector product replaced by a finite difference of gradients.
- ``neumann`` (:mod:`.neumann`, AID-NMN) and ``cg`` (:mod:`.cg`, AID-CG): the implicit
  gradient of the proximal inner problem (iMAML), ``(I + alpha * H(phi_K))^-1 dF/dphi``.
"""
import inspect
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch
from mmengine.registry import Registry
from torch import Tensor

from ..errors import HypergradientError
from .inner_loop import InnerTrajectory, LossFn, Params, gradient_descent, grads_of, leaf

#: ``type`` in ``optim_wrapper.hypergrad=dict(type=..., **options)`` -> method class
HYPERGRADIENTS = Registry('hypergradient', locations=['gessl_mm.engine.hypergradients'])

#: ``F``: the outer loss at a point, and whatever the caller wants back from that evaluation
OuterFn = Callable[[Params], Tuple[Tensor, Any]]


@dataclass
class HypergradientResult:
    """A task's hypergradient and what the outer loss's one evaluation at ``phi_K`` gave.

    Attributes:
        grads: ``dF / dtheta`` for every name of ``theta``.
        outer_loss: ``F(phi_K)``, detached.
        outer_aux: the second value ``outer_fn`` returned at ``phi_K``.
        outer_grad_time: ``time.perf_counter()`` once ``dF / dphi_K`` was computed (for
            ``reverse``, the whole backward pass), CUDA synchronised.
        error: why the method could not give a meaningful hypergradient (a diverging
            Neumann series, an indefinite CG system); ``grads`` is then None.
    """
    grads: Optional[Params]
    outer_loss: Tensor
    outer_aux: Any
    outer_grad_time: float
    error: Optional[HypergradientError] = None


class BaseHypergradient:
    """A hypergradient method: ``method(params, inner_loss_fn, outer_fn, inner_lr,
    trajectory) -> HypergradientResult``.

    Subclasses declare what the inner loop must give them and implement
    :meth:`through_inner_steps`, which turns ``v = dF/dphi_K`` (on the adapted names) into the
    hypergradient, adding the non-adapted names' mixed terms to ``fixed``.
    """
    #: the inner steps must keep their graph to theta (``create_graph``)
    differentiates_inner_steps = False

    @property
    def keeps_inner_grads(self) -> bool:
        """Whether the inner steps' gradients w.r.t. every name are reused (kept)."""
        return False

    def __call__(self, params: Params, inner_loss_fn: LossFn, outer_fn: OuterFn,
                 inner_lr: float, trajectory: InnerTrajectory) -> HypergradientResult:
        names = list(params)
        adapted = trajectory.adapted
        fixed_names = [n for n in names if n not in set(adapted)]
        final = {**trajectory.final, **{n: leaf(trajectory.final[n]) for n in adapted}}
        loss, aux = outer_fn(final)
        outer_grad = grads_of(loss, final, names)
        outer_grad_time = timestamp(loss)
        fixed = {n: outer_grad[n] for n in fixed_names}
        try:
            v = self.through_inner_steps({n: outer_grad[n] for n in adapted}, fixed, names,
                                         inner_loss_fn, inner_lr, trajectory)
        except HypergradientError as error:
            return HypergradientResult(None, loss.detach(), aux, outer_grad_time, error)
        fixed.update(v)
        return HypergradientResult({n: fixed[n] for n in names}, loss.detach(), aux,
                                   outer_grad_time)

    def through_inner_steps(self, v: Params, fixed: Params, names: List[str],
                            inner_loss_fn: LossFn, inner_lr: float,
                            trajectory: InnerTrajectory) -> Params:
        """The adapted names' hypergradient from ``v = dF/dphi_K``; adds the non-adapted
        names' terms to ``fixed`` in place."""
        raise NotImplementedError

    def __repr__(self) -> str:
        options = ', '.join(f'{k}={getattr(self, k)!r}' for k in _options(type(self)))
        return f'{type(self).__name__}({options})'


def timestamp(like: Tensor) -> float:
    """``time.perf_counter()`` after the work queued on ``like``'s device is done."""
    if like.is_cuda:
        torch.cuda.synchronize(like.device)
    return time.perf_counter()


def _options(cls: type) -> List[str]:
    """The options a method takes: its ``__init__``'s named arguments."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in inspect.signature(cls.__init__).parameters.items()
            if n != 'self' and p.kind in named]


def build_hypergradient(cfg: Optional[dict] = None) -> BaseHypergradient:
    """The method of ``optim_wrapper.hypergrad`` (default ``dict(type='finite_diff')``).

    Raises:
        ValueError: an unknown ``type``, or an option the method does not take (named).
    """
    cfg = dict(cfg or {})
    method = cfg.pop('type', 'finite_diff')
    cls = HYPERGRADIENTS.get(method) if isinstance(method, str) else None
    if cls is None:
        raise ValueError(f'hypergrad.type={method!r} is not a hypergradient method; '
                         f'choose one of {tuple(HYPERGRADIENTS.module_dict)}')
    takes = _options(cls)
    unknown = sorted(set(cfg) - set(takes))
    if unknown:
        raise ValueError(f'hypergrad option(s) {unknown} do not apply to {method!r}; '
                         f'it takes {takes or "no options"}')
    return cls(**cfg)


def hypergradient(method: str, params: Params, inner_loss_fn: LossFn,
                  outer_loss_fn: LossFn, inner_lr: float, inner_steps: int,
                  adapted: Optional[Sequence[str]] = None,
                  trajectory: Optional[InnerTrajectory] = None, **options) -> Params:
    """The gradient of ``outer_loss_fn(phi_K(params))`` w.r.t. ``params``, as a pure function.

    Args:
        method: a registered method's name (:data:`HYPERGRADIENTS`).
        params: ``theta``, name -> tensor; every tensor must require grad.
        inner_loss_fn: ``L(params) -> scalar``; a deterministic function of its argument.
        outer_loss_fn: ``F(adapted_params) -> scalar`` (the target is closed over).
        inner_lr: ``alpha``.
        inner_steps: ``K``.
        adapted: names that take inner steps (default: all of ``params``).
        trajectory: the inner loop, when the caller already ran it (with the graph for
            ``reverse``); computed here otherwise.
        **options: the method's options (e.g. ``eps``, ``scheme``, ``terms``, ``iters``).

    Returns:
        dict: name -> hypergradient, for every name in ``params``.

    Raises:
        HypergradientError: the method's solve diverged or is ill-posed.
    """
    solver = build_hypergradient(dict(type=method, **options))
    adapted = list(adapted) if adapted is not None else list(params)
    graph = solver.differentiates_inner_steps
    if trajectory is None or (graph and not trajectory.create_graph):
        trajectory = gradient_descent(params, inner_loss_fn, inner_lr, inner_steps, adapted,
                                      create_graph=graph)
    result = solver(params, inner_loss_fn, lambda p: (outer_loss_fn(p), None), inner_lr,
                    trajectory)
    if result.error is not None:
        raise result.error
    return result.grads
