"""Memories for JAX agents: ``Memory`` (base) and ``RandomMemory``."""

from skrl.memories.jax.base import Memory
from skrl.memories.jax.random import RandomMemory

__all__ = ["Memory", "RandomMemory"]
