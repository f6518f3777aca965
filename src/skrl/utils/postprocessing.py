"""Reading experiment data back: TensorBoard event files (and exported memories)."""

from skrl.utils._memory_files import MemoryFileIterator
from skrl.utils._tensorboard_files import TensorboardFileIterator

__all__ = [
    "MemoryFileIterator",
    "TensorboardFileIterator",
]
