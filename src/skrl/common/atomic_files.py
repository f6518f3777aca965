"""Crash-safe file writes: write to a temporary sibling, fsync, then rename over the final name.

A crash at any point leaves either the old file or the new one under the final name, never a
truncated file. Temporaries carry ``TMP_SUFFIX`` so that loaders skip them and cleanup finds them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import BinaryIO, Iterator

TMP_SUFFIX = ".skrl-tmp"


def temporary_path_for(path: str) -> str:
    """A unique temporary name in the same directory as ``path`` (so that the final rename is atomic)."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def is_temporary(path: str) -> bool:
    """Whether ``path`` is (or lies inside) the temporary of an unfinished write; orbax may add its own suffix."""
    return TMP_SUFFIX in os.path.basename(path.rstrip(os.sep))


def fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Open a binary file that appears under ``path`` only once fully written and synced."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = temporary_path_for(path)
    try:
        with open(tmp, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_directory(os.path.dirname(path))


def remove_stale_temporaries(directory: str) -> list[str]:
    """Delete leftover temporaries of interrupted writes in ``directory``; returns the removed paths."""
    import shutil

    removed = []
    if not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        full = os.path.join(directory, name)
        if is_temporary(full):
            if os.path.isdir(full):
                shutil.rmtree(full, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(full)
            removed.append(full)
    return removed
