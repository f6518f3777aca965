"""Reading exported memories back (``MemoryFileIterator``), and the lazy torch reader/writer of "pt" files."""

from __future__ import annotations

import glob
import os
from types import ModuleType

import numpy as np

from skrl.common.atomic_files import is_temporary
from skrl.common.memory_files import file_format_of, read_memory_file


def torch_file_io() -> ModuleType:
    """The module that reads and writes "pt" files (``load_array_file``/``save_array_file``); it needs torch."""
    try:
        from skrl.torch import array_ops
    except ImportError as e:
        raise ImportError("The 'pt' memory file format needs PyTorch: pip install 'skrl[torch]' "
                          "(or use export_format='npz' or 'csv')") from e
    return array_ops


def _load_pt(path: str) -> dict:
    return torch_file_io().load_array_file(path)


class MemoryFileIterator:
    """Iterate over exported memory files, yielding ``(file name, {tensor name: np.ndarray})``.

    Args:
        pathname: a ``glob`` pattern, e.g. ``"runs/*/memories/*.npz"``; matches are sorted, so the files of one
            memory come in export order. Unfinished (temporary) files are skipped.

    Each array has the storage shape ``(memory_size, num_envs, *size)`` and dtype that ``Memory.load`` restores,
    for "pt" (needs torch), "npz" and "csv" files alike. A corrupt file raises ``MemoryFileError``; a file of
    another extension raises it before iteration starts.

    Example::

        for name, data in MemoryFileIterator("runs/my_run/memories/*.csv"):
            print(name, data["rewards"].mean())
    """

    def __init__(self, pathname: str) -> None:
        self.file_paths = [path for path in sorted(glob.glob(pathname)) if not is_temporary(path)]
        for path in self.file_paths:
            file_format_of(path)
        self._index = 0

    def __iter__(self) -> "MemoryFileIterator":
        return self

    def __next__(self) -> tuple[str, dict[str, np.ndarray]]:
        if self._index >= len(self.file_paths):
            raise StopIteration
        path = self.file_paths[self._index]
        self._index += 1
        _, arrays = read_memory_file(path, load_pt=_load_pt)
        return os.path.basename(path), dict(sorted(arrays.items()))

    def __len__(self) -> int:
        return len(self.file_paths)
