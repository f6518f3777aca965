"""The JAX side of skrl's backend interface (devices, PRNG keys, arrays, checkpoint I/O).

Importing it turns on JAX's persistent compilation cache (``skrl.jax.compilation_cache``) unless disabled or
configured by the user.
"""

from skrl.jax.compilation_cache import enable_compilation_cache

enable_compilation_cache()
