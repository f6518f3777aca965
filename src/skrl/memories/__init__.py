"""Memories: ``skrl.memories.torch`` and ``skrl.memories.jax``."""
