"""Leaf array operations of the torch backend (spaces utilities, env wrappers, memories) and "pt" array files."""

from __future__ import annotations

import pickle
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from skrl import config
from skrl.common.memory_files import MemoryFileError
from skrl.torch.checkpoint_io import numpy_scalar_allowlist, save_state


class TorchArrayOps:
    """``skrl.common.spaces.SpaceArrayOps`` for torch: NumPy data becomes tensors (Box float32, discrete int32)."""

    numpy_casts = {"box": np.float32, "discrete": np.int32, "multidiscrete": np.int32}

    def is_native(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    is_leaf = is_native

    def adopt(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def parse_device(self, device: Any) -> torch.device:
        return device if isinstance(device, torch.device) else config.torch.parse_device(device)

    def from_numpy(self, x: np.ndarray, device: Any = None) -> torch.Tensor:
        # a copy (envs may reuse their observation buffers between steps) that the tensor then shares: a third of
        # the cost of ``torch.tensor`` for the small arrays of an env step
        tensor = torch.from_numpy(np.array(x, copy=True, order="C"))
        device = self.parse_device(device)
        return tensor if device.type == "cpu" else tensor.to(device)

    def from_numpy_many(self, xs: Sequence[np.ndarray], device: Any = None) -> list:
        return [self.from_numpy(x, device) for x in xs]

    def to_numpy(self, x: torch.Tensor) -> np.ndarray:
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()

    def concatenate(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        return torch.cat(list(xs), dim=-1)

    def numpy_dtype(self, dtype: torch.dtype) -> np.dtype:
        """The NumPy dtype that ``to_numpy`` gives for tensors of ``dtype`` (bfloat16 becomes float32)."""
        return torch.empty(0, dtype=torch.float32 if dtype == torch.bfloat16 else dtype).numpy().dtype

    def native_dtype(self, dtype: Any) -> torch.dtype:
        """The torch dtype of NumPy ``dtype`` (``np.float32`` gives ``torch.float32``)."""
        return dtype if isinstance(dtype, torch.dtype) else torch.from_numpy(np.empty(0, np.dtype(dtype))).dtype


TORCH_ARRAY_OPS = TorchArrayOps()


def save_array_file(path: str, entries: Mapping[str, Any]) -> None:
    """``torch.save`` ``entries`` atomically; NumPy arrays become CPU tensors sharing their memory (no copy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read-only arrays (from JAX) are only read here
        state = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in entries.items()}
    save_state(state, path)


def _numpy_array_allowlist() -> list:
    """Pickled NumPy arrays (skrl 1.4.3 JAX memories saved them) hold data only."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # NumPy < 2
        from numpy.core.multiarray import _reconstruct
    return [_reconstruct, np.ndarray, *numpy_scalar_allowlist()]


def load_array_file(path: str) -> dict[str, Any]:
    """Read a "pt" array file without running code from it: tensors become NumPy arrays (on the CPU).

    Not memory-mapped: JAX may adopt the arrays without a copy, and they must not depend on the file.
    """
    try:
        with torch.serialization.safe_globals(_numpy_array_allowlist()):
            entries = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as e:
        raise MemoryFileError(f"Refused to load {path!r}: it holds objects that only an unrestricted unpickler "
                              f"could build, which could run arbitrary code ({e})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise MemoryFileError(f"Cannot read memory file {path!r}: the file is corrupt or truncated ({e})") from None
    if not isinstance(entries, dict):
        return entries
    return {k: TORCH_ARRAY_OPS.to_numpy(v) if isinstance(v, torch.Tensor) else v for k, v in entries.items()}
