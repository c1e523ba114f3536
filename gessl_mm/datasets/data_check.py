"""A clear error for a dataset that is not where its config says.

The benchmark datasets of the paper are not downloaded by this package: they are read from
``data/<name>`` (relative to the working directory, as in mmpretrain). A dataset class here
calls :func:`require_data` before it reads anything, so that a missing folder or file gives a
:class:`FileNotFoundError` that names the path, shows the expected layout and points to
``docs/configs.md``, instead of a traceback deep in a loader (or a download attempt).
"""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.fileio import exists, get_file_backend
from mmengine.fileio.backends import LocalBackend

DOCS = 'docs/configs.md (section "Datasets")'


def data_error_message(name: str, data_root: str, problem: str, layout: str,
                       how: Optional[str] = None) -> str:
    """The message of a missing or malformed dataset: the problem, the layout, the docs.

    Args:
        name: the dataset's name (e.g. ``'CIFAR-10'``).
        data_root: the dataset's root as given in the config.
        problem: what is wrong, one sentence naming the path.
        layout: the expected tree(s) below ``data_root``; ``{root}`` is replaced by it.
        how: where to get the data / how to make the missing file, one or more lines.
    """
    root = data_root.rstrip('/') if data_root else ''
    lines = [
        problem, f'Put {name} under {root or "data_root"}/ in this layout:', '',
        *layout.format(root=root or 'data_root').strip('\n').splitlines(), ''
    ]
    if how:
        lines += [*how.strip('\n').splitlines(), '']
    lines.append(f'Or point the config elsewhere (data_root=...). More in {DOCS}.')
    return '\n'.join(lines)


def require_data(name: str, data_root: str, paths: Sequence[str], layout: str,
                 how: Optional[str] = None) -> None:
    """Raise :class:`FileNotFoundError` unless every one of ``paths`` exists.

    Args:
        name: the dataset's name, for the message (e.g. ``'CIFAR-10'``).
        data_root: the dataset's root as given in the config (e.g. ``'data/cifar10'``).
        paths: files or folders that must exist, relative to ``data_root`` (``''`` for the
            root itself).
        layout: the expected tree below ``data_root``, one entry a line; ``{root}`` is
            replaced by ``data_root``.
        how: where to get the data / how to make the missing file, one or more lines.

    Raises:
        FileNotFoundError: the first missing path, with the expected layout.
    """
    root = data_root.rstrip('/') if data_root else ''
    try:
        local = isinstance(get_file_backend(root or '.'), LocalBackend)
    except Exception:  # an unknown URI scheme: let the dataset's own loader report it
        return
    for path in paths:
        full = osp.join(root, path) if path else root
        if full and (osp.exists(full) if local else exists(full)):
            continue
        where = f' (from {os.getcwd()})' if local and not osp.isabs(full or '.') else ''
        raise FileNotFoundError(data_error_message(
            name, data_root, f'{name}: {full or "(empty data_root)"} does not exist{where}.',
            layout, how))
