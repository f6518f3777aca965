"""Arrays of other frameworks as torch tensors, for environments that do not run on torch (Brax, gymnax, NumPy)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def as_native_array(x: Any, device: Any = None) -> torch.Tensor:
    """``x`` (a torch tensor, NumPy array, Python scalar or JAX array) as a tensor on ``device`` (None: where it is).

    JAX arrays are shared through DLPack (no copy) when the two frameworks agree on the device, else copied.
    """
    if isinstance(x, torch.Tensor):
        tensor = x
    elif isinstance(x, (np.ndarray, np.generic, bool, int, float)):
        tensor = torch.tensor(np.asarray(x))  # a copy: the array may be read-only (fetched from JAX) or reused
    else:
        try:
            tensor = torch.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError, AttributeError):
            tensor = torch.tensor(np.asarray(x))
    return tensor if device is None else tensor.to(device)
