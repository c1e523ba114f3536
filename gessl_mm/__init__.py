# Compatibility fixes first: they must be in place before any OpenMMLab module
# loads a checkpoint or touches the removed numpy aliases.
from .utils import compat  # noqa: F401

# isort: split
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
