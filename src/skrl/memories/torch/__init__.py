"""Memories for torch agents: ``Memory`` (base) and ``RandomMemory``."""

from skrl.memories.torch.base import Memory
from skrl.memories.torch.random import RandomMemory

__all__ = ["Memory", "RandomMemory"]
