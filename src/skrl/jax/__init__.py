"""The JAX side of skrl's backend interface (devices, PRNG keys, arrays, checkpoint I/O)."""
