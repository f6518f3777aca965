"""Checkpoint bytes for torch: ``torch.save`` through an atomic write, ``torch.load(weights_only=True)``."""

from __future__ import annotations

import pickle
from typing import Any

import torch

from skrl.common.atomic_files import atomic_write
from skrl.common.errors import CheckpointFileError, UnsafeCheckpointError

FILE_EXTENSION = ".pt"


def save_state(state: Any, path: str) -> None:
    """Write ``state`` (nested dicts of tensors and Python scalars) to ``path`` atomically."""
    with atomic_write(path) as file:
        torch.save(state, file)


def numpy_scalar_allowlist() -> list:
    """NumPy scalar and dtype types that skrl 1.x and rl_games checkpoints hold (data only, no code)."""
    import numpy as np

    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # NumPy < 2
        from numpy.core.multiarray import scalar
    dtypes = [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                          np.uint8, np.uint32, np.uint64, np.bool_)]
    return [scalar, np.dtype, *dtypes]


def load_state(path: str, device: Any = None) -> Any:
    """Read a torch checkpoint onto ``device`` without executing code from the file.

    ``weights_only=True`` plus an explicit allowlist of NumPy scalar types: anything else that would need an
    unpickler to build objects is refused with ``UnsafeCheckpointError``.
    """
    try:
        with torch.serialization.safe_globals(numpy_scalar_allowlist()):
            return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as e:
        raise UnsafeCheckpointError(
            f"Refused to load {path!r}: it holds objects that only an unrestricted unpickler could build, "
            f"which could run arbitrary code. Only tensors, numbers, strings and containers are accepted. Detail: {e}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointFileError(f"Cannot read checkpoint {path!r}: the file is corrupt or truncated ({e})") from None
