"""``set_seed``: one seed for Python, NumPy, torch (if installed) and ``config.jax.key``."""

from __future__ import annotations

import os
import random
import sys
import time
from typing import Optional

import numpy as np

from skrl import config, logger

_MAX_SEED = 2**32 - 1


#: the seed of the last ``set_seed`` call (recorded in run manifests), None before any
LAST_SEED: Optional[int] = None


def _random_seed() -> int:
    try:
        seed = int.from_bytes(os.urandom(4), sys.byteorder)
    except NotImplementedError:
        seed = int(time.time() * 1000)
    return seed % 2**31


def _seed_torch(seed: int, deterministic: bool) -> None:
    try:
        import torch
    except ImportError:
        return
    try:
        torch.manual_seed(seed)
        torch.cuda.manual_seed(seed)
        torch.cuda.manual_seed_all(seed)
        if deterministic:
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
            logger.warning("PyTorch/cuDNN deterministic algorithms are enabled. This may affect performance")
    except Exception as e:
        logger.warning(f"PyTorch seeding error: {e}")


def set_seed(seed: Optional[int] = None, deterministic: bool = False) -> int:
    """Seed ``random``, NumPy, torch (when installed) and ``config.jax.key``, and return the seed used.

    Args:
        seed: the seed; None draws one from ``os.urandom`` (in ``[0, 2**31)``). In distributed runs the process
            rank is added, so that each process explores differently.
        deterministic: also make cuDNN deterministic (slower); ``torch.use_deterministic_algorithms`` is left alone.

    Returns:
        The seed actually used (rank included).

    Raises:
        ValueError: the seed is not an integer in ``[0, 2**32 - 1]`` (after adding the rank).
    """
    if seed is None:
        seed = _random_seed()
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid `seed`: expected an int or None. Received: seed={seed!r}") from None
    if config.torch.is_distributed:
        seed += config.torch.rank
    if config.jax.is_distributed:
        seed += config.jax.rank
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"Invalid `seed`: expected an int in [0, {_MAX_SEED}] (rank included). Received: seed={seed}")
    logger.info(f"Seed: {seed}")
    random.seed(seed)
    np.random.seed(seed)
    _seed_torch(seed, deterministic)
    config.jax.key = seed
    global LAST_SEED
    LAST_SEED = seed
    return seed
