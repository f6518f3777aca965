"""jax.distributed for skrl: process initialisation (gloo collectives on CPU) and the host collectives agents use."""

from __future__ import annotations

import atexit
from typing import Any, Mapping

import jax
import numpy as np

from skrl import config
from skrl._logging import logger

_initialized = [False]


def ensure_initialized() -> None:
    """Connect this process to the others of the launch (once; a no-op when not distributed)."""
    if not config.jax.is_distributed or _initialized[0]:
        return
    topology = config.jax
    logger.info(f"Distributed (rank: {topology.rank}, local rank: {topology.local_rank}, "
                f"world size: {topology.world_size})")
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes need it for collectives
    except (AttributeError, ValueError):  # pragma: no cover - older or newer JAX without the option
        pass
    jax.distributed.initialize(coordinator_address=topology.coordinator_address,
                               num_processes=topology.world_size, process_id=topology.rank)
    atexit.register(jax.distributed.shutdown)  # before interpreter teardown, or the processes hang on exit
    _initialized[0] = True


def all_gather_host(tree: Mapping[str, Any]) -> list[dict]:
    """``tree`` (a flat dict of NumPy arrays, the same keys on every process) of every process, in rank order."""
    from jax.experimental import multihost_utils

    keys = sorted(tree)
    counts = multihost_utils.process_allgather(np.asarray([len(keys)], np.int32))
    if int(np.min(counts)) == 0:  # a process without statistics yet: exchange nothing rather than mismatched trees
        return [dict(tree)] if keys else []
    stacked = multihost_utils.process_allgather({key: np.asarray(tree[key]) for key in keys})
    return [{key: np.asarray(stacked[key][i]) for key in keys} for i in range(config.jax.world_size)]
