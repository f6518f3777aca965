"""torch storage for the memory core: tensors on the memory's device, written in place."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import torch

from skrl import config
from skrl.common.memory_core import Index, MemoryCore
from skrl.torch import array_ops


class Memory(MemoryCore):
    """Base class of torch memories; storage is ``torch.Tensor`` (default dtype float32).

    Flat views (``tensors_view``, ``get_tensor_by_name(name, keepdim=False)``, ``sample_all``) share the storage.
    """

    _array_ops = array_ops.TORCH_ARRAY_OPS
    _backend_name = "torch"

    def _parse_device(self, device: Any) -> torch.device:
        return config.torch.parse_device(device)

    def _allocate(self, shape: tuple, dtype: Any) -> torch.Tensor:
        dtype = torch.float32 if dtype is None else dtype
        fill = float("nan") if dtype.is_floating_point else 0
        return torch.full(shape, fill, dtype=dtype, device=self.device)

    def _as_tensor(self, values: Any, like: torch.Tensor) -> torch.Tensor:
        if isinstance(values, torch.Tensor):
            return values
        return torch.as_tensor(np.asarray(values), dtype=like.dtype, device=like.device)

    def add_samples(self, **tensors: Any) -> None:
        if not torch.is_grad_enabled():  # the trainers' loops run under no_grad already
            super().add_samples(**tensors)
            return
        with torch.no_grad():  # once for every tensor written (entering it costs about as much as a row write)
            super().add_samples(**tensors)

    def _write(self, name: str, index: Index, values: Any) -> None:
        tensor = self.tensors[name]
        if type(index) is tuple and len(index) == 1:
            index = index[0]  # a row: an int index is a third cheaper than a 1-tuple in torch's indexing
        if torch.is_grad_enabled():
            with torch.no_grad():
                tensor[index] = self._as_tensor(values, tensor)
        else:
            tensor[index] = self._as_tensor(values, tensor)

    def _assign(self, name: str, tensor: Any) -> None:
        storage = self.tensors[name]
        with torch.no_grad():
            storage.copy_(self._as_tensor(tensor, storage))

    def _torch_file_io(self) -> ModuleType:
        return array_ops

    def _indexes(self, indexes: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(indexes, dtype=torch.long, device=self.device)

    def share_memory(self) -> None:
        """Move every CPU tensor to shared memory (for ``ParallelTrainer`` workers)."""
        for tensor in self.tensors.values():
            if not tensor.is_cuda:
                tensor.share_memory_()
