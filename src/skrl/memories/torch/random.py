"""torch ``RandomMemory``: uniform random sampling, with or without replacement."""

from skrl.common.memory_core import RandomMemoryCore
from skrl.memories.torch.base import Memory


class RandomMemory(RandomMemoryCore, Memory):
    """A torch memory sampled uniformly at random (``replacement=True`` by default); supports sequences."""
