"""jax.distributed for skrl: process initialisation (gloo collectives on CPU), the host collectives agents use, and
``over_processes``, which compiles a function to run on every process at once so that ``jax.lax.pmean(x,
AXIS_NAME)`` inside it averages over the processes (the gradients of the jitted updates of PPO, TRPO and the
off-policy agents). Agents compile with ``jit`` (``jax.jit`` when not distributed) and average with
``process_mean`` (nothing when not distributed)."""

from __future__ import annotations

import atexit
import functools
from typing import Any, Callable, Mapping, Optional

import jax
import numpy as np

from skrl import config
from skrl._logging import logger

_initialized = [False]

AXIS_NAME = "processes"
"""The axis of ``process_mesh``: inside a function run by ``over_processes``, ``jax.lax.pmean(x, AXIS_NAME)`` is
``x`` averaged over the processes."""


def process_axis() -> Optional[str]:
    """``AXIS_NAME`` in a run of more than one process, else None (one process: plain ``jax.jit``, no collective)."""
    return AXIS_NAME if config.jax.is_distributed and config.jax.world_size > 1 else None


def process_mean(tree: Any, axis_name: Optional[str]) -> Any:
    """``tree`` averaged over the processes (``jax.lax.pmean``) inside a function run by ``over_processes``; ``tree``
    itself when ``axis_name`` is None (not distributed: nothing is added to the traced function)."""
    return tree if axis_name is None else jax.lax.pmean(tree, axis_name)


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


@functools.lru_cache(maxsize=None)
def process_mesh() -> jax.sharding.Mesh:
    """The global 1-D mesh (axis ``AXIS_NAME``) of each process's device, in rank order.

    Each process computes on its first local device (the one ``skrl.jax.devices.parse_device`` gives it).
    """
    devices = [jax.local_devices(process_index=index)[0] for index in range(jax.process_count())]
    return jax.sharding.Mesh(np.asarray(devices), (AXIS_NAME,))


def _map_local(function: Callable, local: Any, tree: Any) -> Any:
    """``function`` applied to the leaves of ``tree`` under the ``True`` leaves of the prefix tree ``local``."""
    return jax.tree_util.tree_map(lambda flag, subtree: jax.tree_util.tree_map(function, subtree) if flag else subtree,
                                  local, tree)


def _specs(local: Any) -> Any:
    from jax.sharding import PartitionSpec

    return jax.tree_util.tree_map(lambda flag: PartitionSpec(AXIS_NAME) if flag else PartitionSpec(), local)


def _stacked(x: Any) -> Any:
    return x[None] if hasattr(x, "shape") else np.asarray(x)[None]


def over_processes(function: Callable, local_in: tuple, local_out: Any) -> Callable:
    """``function`` compiled to run on every process at once, called like ``jax.jit(function)`` by each process.

    The function runs under ``jax.shard_map`` over ``process_mesh()``, where ``jax.lax.pmean(x, AXIS_NAME)`` is
    ``x`` averaged over the processes. Every process passes its own arrays and gets its own results back.

    Args:
        function: a traceable function of positional arguments.
        local_in: a prefix tree of the arguments (a tuple, one entry per argument): ``True`` over what differs
            between the processes (rollouts, PRNG keys, statistics), ``False`` over what is the same on every
            process (parameters, optimizer states, scalars): the latter must be equal, or the result is undefined.
        local_out: the same for the result; a ``False`` output must be made equal by the function (with ``pmean``).

    The per-process values travel as one row each of a global array sharded over the processes; the equal ones
    are replicated. Replication is not checked by the tracer (``check_vma=False``): carries of ``lax.scan`` mix
    averaged and per-process values, and the function itself makes its ``False`` outputs equal.
    """
    from jax.experimental import multihost_utils

    mesh = process_mesh()
    in_specs, out_specs = _specs(local_in), _specs(local_out)

    def body(*args: Any) -> Any:
        return _map_local(_stacked, local_out, function(*_map_local(lambda x: x[0], local_in, args)))

    mapped = jax.jit(jax.shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False))

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        inputs = multihost_utils.host_local_array_to_global_array(_map_local(_stacked, local_in, args), mesh, in_specs)
        outputs = multihost_utils.global_array_to_host_local_array(mapped(*inputs), mesh, out_specs)
        return _map_local(lambda x: x[0], local_out, outputs)

    return call


def jit(function: Callable, locality: Optional[tuple] = None, **jit_kwargs: Any) -> Callable:
    """``jax.jit(function, **jit_kwargs)``; in a distributed run, given ``locality=(local_in, local_out)``,
    ``over_processes(function, local_in, local_out)`` instead (the function averages with ``process_mean``)."""
    if locality is not None and process_axis() is not None:
        return over_processes(function, *locality)
    return jax.jit(function, **jit_kwargs)
