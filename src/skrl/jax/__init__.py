"""The JAX side of skrl's backend interface (devices, PRNG keys, arrays, checkpoint I/O).

Importing it turns on JAX's persistent compilation cache (``skrl.jax.compilation_cache``) and synchronous CPU
execution of jitted calls (``skrl.jax.cpu_dispatch``), each unless disabled or configured by the user.
"""

from skrl.jax.compilation_cache import enable_compilation_cache
from skrl.jax.cpu_dispatch import configure_cpu_dispatch

enable_compilation_cache()
configure_cpu_dispatch()
