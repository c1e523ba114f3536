"""Make PyPI's CUDA-built torchvision importable beside a CPU-only torch.

``torchvision/_meta_registrations.py`` registers fake kernels for ``torchvision::nms`` and
``torchvision::qnms`` unconditionally. When torchvision's ``_C`` extension cannot load (the
PyPI wheel links ``libtorch_cuda.so``), the import fails with
``RuntimeError: operator torchvision::nms does not exist``, and with it every mmpretrain import.
This guards the two decorators with ``torchvision.extension._has_ops()``, as the other
registrations in that file are guarded. Idempotent; a no-op where the ops load (CUDA torch).
Unnecessary once torchvision guards them upstream or ships CPU wheels on PyPI.
"""
import importlib.util
import pathlib
import sys


def main() -> int:
    spec = importlib.util.find_spec('torchvision')
    if spec is None or not spec.submodule_search_locations:
        print('torchvision is not installed: nothing to patch')
        return 0
    path = pathlib.Path(spec.submodule_search_locations[0]) / '_meta_registrations.py'
    source = path.read_text()
    patched = 0
    for op in ('nms', 'qnms'):
        old = f'@torch.library.register_fake("torchvision::{op}")'
        new = (f'@(torch.library.register_fake("torchvision::{op}") '
               'if torchvision.extension._has_ops() else (lambda f: f))')
        if old in source:
            source = source.replace(old, new)
            patched += 1
    if patched:
        path.write_text(source)
    print(f'patch_torchvision: guarded {patched} registration(s) in {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
