"""JAX storage for the memory core: NumPy arrays written in place, or ``jax.Array`` updated functionally.

The array backend (``config.jax.backend``) is read once, when the memory is built.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.memory_core import Index, MemoryCore
from skrl.jax.array_ops import JAX_ARRAY_OPS
from skrl.utils._memory_files import torch_file_io


class Memory(MemoryCore):
    """Base class of JAX memories; storage is ``np.ndarray`` ("numpy" backend) or ``jax.Array`` ("jax" backend).

    The default dtype is float32 on both backends. With the "jax" backend each write replaces the stored
    array, and flat views are reshaped copies. The "pt" file format imports torch only when used.
    """

    _backend_name = "jax"

    def __init__(self, memory_size: int, num_envs: int = 1, device: Any = None, export: bool = False,
                 export_format: str = "pt", export_directory: str = "") -> None:
        self._jax = config.jax.backend == "jax"
        self._array_ops = JAX_ARRAY_OPS[self._jax]
        super().__init__(memory_size, num_envs, device, export, export_format, export_directory)

    def _parse_device(self, device: Any) -> jax.Device:
        return config.jax.parse_device(device)

    def _torch_file_io(self) -> ModuleType:
        return torch_file_io()

    def _allocate(self, shape: tuple, dtype: Any) -> Any:
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        fill = np.nan if np.issubdtype(dtype, np.floating) else 0
        if not self._jax:
            return np.full(shape, fill, dtype=dtype)
        with jax.default_device(self.device):
            return jnp.full(shape, fill, dtype=dtype)

    def _write(self, name: str, index: Index, values: Any) -> None:
        if self._jax:
            self.tensors[name] = self.tensors[name].at[index].set(values)
        else:
            self.tensors[name][index] = values

    def _store_loaded(self, name: str, array: np.ndarray) -> None:
        if not self._jax:
            return self._assign(name, array)
        dtype = self.tensors[name].dtype
        self.tensors[name] = None  # free the replaced array first: peak RAM is one copy, not two
        self.tensors[name] = jax.device_put(np.asarray(array, dtype=dtype), self.device)

    def _assign(self, name: str, tensor: Any) -> None:
        storage = self.tensors[name]
        if self._jax:
            value = jnp.broadcast_to(jnp.asarray(tensor, dtype=storage.dtype), storage.shape)
            self.tensors[name] = jax.device_put(value, self.device)
        else:
            np.copyto(storage, np.asarray(tensor), casting="unsafe")
