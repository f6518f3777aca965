"""The JAX side of skrl's backend interface (devices, PRNG keys, arrays, checkpoint I/O).

Importing it turns on JAX's persistent compilation cache (``skrl.jax.compilation_cache``), synchronous CPU
execution of jitted calls (``skrl.jax.cpu_dispatch``) and loop-free threefry random bits on the CPU
(``skrl.jax.cpu_threefry``), each unless disabled or configured by the user.
"""

from skrl.jax.compilation_cache import enable_compilation_cache
from skrl.jax.cpu_dispatch import configure_cpu_dispatch
from skrl.jax.cpu_threefry import unroll_cpu_threefry

enable_compilation_cache()
configure_cpu_dispatch()
unroll_cpu_threefry()
