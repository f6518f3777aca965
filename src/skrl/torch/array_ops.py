"""Leaf array operations of the torch backend, used by the spaces utilities and the env wrappers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from skrl import config


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
        # a copy: envs may reuse their observation buffers between steps
        return torch.tensor(np.ascontiguousarray(x), device=self.parse_device(device))

    def to_numpy(self, x: torch.Tensor) -> np.ndarray:
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()

    def concatenate(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        return torch.cat(list(xs), dim=-1)


TORCH_ARRAY_OPS = TorchArrayOps()
