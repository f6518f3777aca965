"""Threefry random bits without loops on the CPU, the default for skrl's JAX backend.

On the CPU, JAX lowers its threefry PRNG (behind ``jax.random.split``, ``categorical``, ``normal``, ...) as a loop
of 5 iterations, to keep compile times short. XLA's CPU runtime pays a fixed cost per loop iteration, so every
jitted call that draws random numbers pays it too: measured here, a PPO act step (key split, categorical sample,
two 64x64 MLPs on 8 states) takes ~69 us with the loops and ~23 us with them unrolled; compiling is no slower.

Importing ``skrl.jax`` therefore registers JAX's own unrolled lowering (the one it uses on GPUs without the
custom kernel) for the CPU. The random bits are identical: only the program's form changes. Set
``$SKRL_JAX_CPU_UNROLLED_THREEFRY=0`` to keep JAX's default. Programs compiled before the import keep their form.
"""

from __future__ import annotations

from skrl._logging import logger
from skrl.common.environment_flags import switched_off

ENVIRONMENT_VARIABLE = "SKRL_JAX_CPU_UNROLLED_THREEFRY"


def unroll_cpu_threefry() -> bool:
    """Register the unrolled threefry lowering for the CPU (see the module docstring); whether it was registered.

    It relies on JAX internals: when they are not as expected, JAX's default is kept (logged at debug level).
    """
    if switched_off(ENVIRONMENT_VARIABLE):
        return False
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32

        mlir.register_lowering(threefry2x32.threefry2x32_p, threefry2x32._threefry2x32_lowering_rule, platform="cpu")
    except (ImportError, AttributeError, TypeError) as e:
        logger.debug(f"JAX's CPU threefry lowering left as it is: {e!r}")
        return False
    return True
