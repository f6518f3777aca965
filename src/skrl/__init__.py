"""skrl: reinforcement learning with PyTorch and JAX behind one interface.

Importing ``skrl`` imports neither torch nor jax: the backend-specific parts of
``skrl.config`` load their framework on first use.
"""

from skrl._config import config
from skrl._logging import logger

try:
    import importlib.metadata as _metadata

    __version__ = _metadata.version("skrl")
except Exception:  # not installed (e.g. run from a source tree)
    __version__ = "unknown"

__all__ = ["__version__", "logger", "config"]
