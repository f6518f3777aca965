"""JAX ``RandomMemory``: uniform random sampling, with or without replacement."""

from skrl.common.memory_core import RandomMemoryCore
from skrl.memories.jax.base import Memory


class RandomMemory(RandomMemoryCore, Memory):
    """A JAX memory sampled uniformly at random (``replacement=True`` by default); supports sequences."""
