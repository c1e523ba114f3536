"""Run the modules that a task's inner loop does not change once, and replay their outputs."""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_flatten, tree_unflatten

PREFIX = 'frozen.'


class FrozenModules:
    """Outputs of modules that stay fixed during one task's inner and target steps.

    Within a task every evaluation of the inner loss feeds the same views to, e.g., the
    backbone when only the heads adapt (``inner_params=['neck', 'head']``) and to BYOL's or
    MoCo's momentum encoder (never adapted). :meth:`recording` runs them once and keeps
    their outputs; :meth:`replaying` makes the same calls, in the same order, return those
    outputs without computing anything. Recorded tensors that carry a graph to the model's
    weights are replaced by leaves (:attr:`leaves`, named ``frozen.<stream>.<module>.<call>
    .<i>``) that the hypergradient treats as non-adapted inputs; :meth:`backward` then sends
    their gradients through the recorded graph once.

    Calls are recorded per ``stream`` (one per function of the weights, e.g. the inner loss
    and the task head's embedding), so each stream replays its own call sequence.

    Args:
        modules: name -> module whose ``forward`` is recorded and replayed.
        lookup: name of a module whose recorded calls :meth:`lookup` may serve by image
            (a row of a later input equal to a row of a recorded input).
    """

    def __init__(self, modules: Dict[str, nn.Module], lookup: Optional[str] = None) -> None:
        self.modules = modules
        self.lookup_module = lookup
        self.calls: Dict[Tuple[str, str], List[Any]] = {}  # (stream, module) -> outputs
        self.leaves: Dict[str, Tensor] = {}
        self._graph: List[Tuple[Tensor, str]] = []  # (recorded output, its leaf's name)
        self._rows: Dict[bytes, tuple] = {}  # image -> (leaf prefix, row, leaves, spec)
        self._plans: Dict[tuple, Optional[tuple]] = {}  # ids of views -> lookup plan
        self._recording: Optional[str] = None

    @contextmanager
    def using(self, stream: str, point: Dict[str, Tensor]) -> Iterator[None]:
        """Inside a function of the weights: replay ``stream``, or let the enclosing
        :meth:`recording` of that stream record it."""
        if self._recording is None:
            with self.replaying(stream, point):
                yield
        elif self._recording != stream:
            raise RuntimeError(f'recording stream {self._recording!r}, used {stream!r}')
        else:
            yield

    @contextmanager
    def recording(self, stream: str) -> Iterator[None]:
        """Run the modules and keep their outputs as the ``stream``'s calls."""

        def record(name, module, forward):

            def wrapped(*args, **kwargs):
                out = forward(*args, **kwargs)
                calls = self.calls.setdefault((stream, name), [])
                prefix = f'{PREFIX}{stream}.{name}.{len(calls)}'
                flat, spec = tree_flatten(out)
                stored = []
                for i, value in enumerate(flat):
                    if isinstance(value, Tensor) and value.requires_grad:
                        leaf = value.detach().requires_grad_(True)
                        self.leaves[f'{prefix}.{i}'] = leaf
                        self._graph.append((value, f'{prefix}.{i}'))
                        value = f'{prefix}.{i}'  # replayed from the point's leaf
                    elif isinstance(value, Tensor):
                        value = value.detach()
                    stored.append(value)
                calls.append((args[0].shape if args else None, stored, spec))
                if name == self.lookup_module and args and not kwargs and \
                        all(isinstance(v, str) for v in stored):
                    self._index_rows(args[0], prefix, len(flat), spec)
                return out

            return wrapped

        self._recording = stream
        try:
            with self._patched(record):
                yield
        finally:
            self._recording = None

    @contextmanager
    def replaying(self, stream: str, point: Dict[str, Tensor]) -> Iterator[None]:
        """Make the ``stream``'s calls return their recorded outputs (leaves from ``point``)."""
        cursors: Dict[str, int] = {}

        def replay(name, module, forward):

            def wrapped(*args, **kwargs):
                calls = self.calls.get((stream, name), [])
                index = cursors.get(name, 0)
                shape = args[0].shape if args else None
                if index >= len(calls) or calls[index][0] != shape:
                    raise RuntimeError(
                        f'GeSSL: call {index + 1} of {name} (input {tuple(shape or ())}) was '
                        'not recorded for this task: the base algorithm calls it differently '
                        'from one evaluation to the next, so it cannot be run once per task. '
                        'Set model.cache_frozen_modules=False.')
                cursors[name] = index + 1
                _, stored, spec = calls[index]
                return tree_unflatten(
                    [point[v] if isinstance(v, str) else v for v in stored], spec)

            return wrapped

        with self._patched(replay):
            yield

    def lookup(self, views: List[Tensor], point: Dict[str, Tensor]) -> Optional[Any]:
        """The recorded output of the lookup module for ``torch.cat(views)``, if every image
        (row) was among its recorded inputs; None otherwise. Differentiable w.r.t. ``point``'s
        leaves. Which rows to gather is worked out once per list of views (the task's own
        tensors), so later passes only index.
        """
        if not self._rows:
            return None
        key = tuple(id(v) for v in views)
        if key not in self._plans:
            self._plans[key] = self._plan(torch.cat(views))
        plan = self._plans[key]
        if plan is None:
            return None
        pieces, restore, num_leaves, spec = plan
        outputs = []
        for i in range(num_leaves):
            names = [(f'{prefix}.{i}', index) for prefix, index in pieces]
            gathered = [point.get(name, self.leaves[name]).index_select(0, index)
                        for name, index in names]
            gathered = torch.cat(gathered) if len(gathered) > 1 else gathered[0]
            outputs.append(gathered if restore is None else gathered[restore])
        return tree_unflatten(outputs, spec)

    def _plan(self, images: Tensor) -> Optional[tuple]:
        """``([(leaf prefix, rows)], restoring permutation or None, leaves, spec)``."""
        sources = [self._rows.get(key) for key in _row_keys(images)]
        if any(s is None for s in sources):
            return None
        pieces, order = [], []
        for prefix in sorted({s[0] for s in sources}):
            rows = [(j, s[1]) for j, s in enumerate(sources) if s[0] == prefix]
            order += [j for j, _ in rows]
            pieces.append((prefix, torch.tensor([r for _, r in rows], device=images.device)))
        restore = None if order == sorted(order) else \
            torch.tensor(order, device=images.device).argsort()
        return pieces, restore, sources[0][2], sources[0][3]

    def backward(self, grads: Dict[str, Tensor], params: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Gradients w.r.t. ``params`` of the recorded outputs, given their leaves' ``grads``
        (one backward pass through the recorded graph)."""
        used = [(out, grads[name]) for out, name in self._graph if name in grads]
        names = list(params)
        if not used or not names:
            return {n: torch.zeros_like(p) for n, p in params.items()}
        result = torch.autograd.grad([o for o, _ in used], [params[n] for n in names],
                                     [g for _, g in used], allow_unused=True)
        return {n: torch.zeros_like(params[n]) if g is None else g
                for n, g in zip(names, result)}

    # ------------------------------------------------------------------ internals
    def _index_rows(self, images: Tensor, prefix: str, num_leaves: int, spec) -> None:
        for row, key in enumerate(_row_keys(images)):
            self._rows.setdefault(key, (prefix, row, num_leaves, spec))

    @contextmanager
    def _patched(self, make_forward) -> Iterator[None]:
        for name, module in self.modules.items():
            module.forward = make_forward(name, module, type(module).forward.__get__(module))
        try:
            yield
        finally:
            for module in self.modules.values():
                module.__dict__.pop('forward', None)


def _row_keys(images: Tensor) -> List[bytes]:
    """Exact keys of the images (rows) of a batch."""
    flat = images.detach().reshape(len(images), -1).cpu().contiguous().numpy()
    return [row.tobytes() for row in flat]
