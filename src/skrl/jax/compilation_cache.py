"""JAX's persistent compilation cache, on by default for skrl's JAX backend.

Each new JAX agent traces and compiles its act and update functions (about 1.5 s for PPO on a CPU, and several
times that on a loaded machine), in every run. With the persistent cache, a run that compiles programs some earlier
run compiled (same shapes, config and JAX version) loads them from disk instead, which cuts the warm-up of repeated
runs (sweeps, resumes, evaluations) and of several agents in one process.

The cache goes to ``$SKRL_JAX_COMPILATION_CACHE`` if set (``0``/``off`` disables it), else
``$XDG_CACHE_HOME/skrl/jax-compilation`` (``~/.cache/...``). A cache configured by the user through JAX itself
(``jax.config.update("jax_compilation_cache_dir", ...)`` or ``$JAX_COMPILATION_CACHE_DIR``) is left as it is.
"""

from __future__ import annotations

import os
from typing import Optional

from skrl._logging import logger
from skrl.common.environment_flags import switched_off

ENVIRONMENT_VARIABLE = "SKRL_JAX_COMPILATION_CACHE"
#: LRU bound of skrl's cache directory (a bound also makes JAX lock the directory while writing, so that processes
#: sharing the cache never read a half-written entry)
MAX_SIZE_BYTES = 1 << 30


def default_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skrl", "jax-compilation")


def enable_compilation_cache(directory: Optional[str] = None) -> Optional[str]:
    """Point JAX's persistent compilation cache at ``directory`` (default: see the module docstring), caching
    every compiled program. Returns the directory in use, or None when disabled or configured by the user."""
    import jax

    if switched_off(ENVIRONMENT_VARIABLE):
        return None
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if jax.config.jax_compilation_cache_dir or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    directory = directory or setting or default_directory()
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:  # a read-only home, for example: compile as JAX does by default
        logger.debug(f"JAX compilation cache disabled: cannot create {directory!r} ({e})")
        return None
    jax.config.update("jax_compilation_cache_dir", directory)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "JAX_COMPILATION_CACHE_MAX_SIZE" not in os.environ and _has_filelock():
        jax.config.update("jax_compilation_cache_max_size", MAX_SIZE_BYTES)
    return directory


def _has_filelock() -> bool:
    try:
        import filelock  # noqa: F401
    except ImportError:
        return False
    return True
