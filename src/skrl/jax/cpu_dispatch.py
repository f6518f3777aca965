"""Synchronous execution of jitted calls on the CPU, the default for skrl's JAX backend.

JAX hands every CPU computation that contains a matmul or a reduction to a worker thread and returns at once
(asynchronous dispatch). For the small programs an agent runs every env step (act on a few states: a few
microseconds of arithmetic), the handoff to that thread and back is the cost: measured on a 2-core machine,
~44 us for an ``8x4 @ 4x64`` matmul against ~9 us run on the calling thread, and ~100 us against ~25 us for a PPO
act step. An agent needs each step's result at once (the env takes the actions), so nothing overlaps anyway; the
update is followed by the next act, which needs its parameters.

Importing ``skrl.jax`` therefore sets ``jax_cpu_enable_async_dispatch`` to False, unless the user configured it
(``$JAX_CPU_ENABLE_ASYNC_DISPATCH``) or opted out with ``$SKRL_JAX_CPU_SYNC_DISPATCH=0``. JAX reads the option when
its CPU backend starts, so it applies when ``skrl.jax`` (any skrl JAX module) is imported before the first JAX
computation of the process; GPU and TPU devices are not affected.
"""

from __future__ import annotations

import os

from skrl.common.environment_flags import switched_off

ENVIRONMENT_VARIABLE = "SKRL_JAX_CPU_SYNC_DISPATCH"


def configure_cpu_dispatch() -> bool:
    """Make CPU computations run on the calling thread (see the module docstring); whether the option was set."""
    import jax

    if switched_off(ENVIRONMENT_VARIABLE):
        return False
    if "JAX_CPU_ENABLE_ASYNC_DISPATCH" in os.environ:
        return False
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    return True
