"""Reading and writing checkpoints of either backend for conversion (``python -m skrl convert``)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from skrl._logging import logger
from skrl.common.conversion import convert_modules


def _backend_of(path: str) -> str:
    return "jax" if os.path.isdir(path) or path.endswith(".pickle") else "torch"


def _read(path: str) -> dict:
    if _backend_of(path) == "torch":
        import torch

        from skrl.torch.checkpoint_io import load_state

        def host(x: Any) -> Any:
            if isinstance(x, dict):
                return {k: host(v) for k, v in x.items()}
            return x.cpu().numpy() if isinstance(x, torch.Tensor) else x

        return host(load_state(path, "cpu"))
    from skrl.jax.checkpoint_io import load_state, msgpack_restore

    states = load_state(path)
    return {k: msgpack_restore(v) if isinstance(v, (bytes, bytearray)) else v for k, v in states.items()}


def _write(states: dict, path: str, backend: str) -> None:
    if backend == "torch":
        import torch

        from skrl.torch.checkpoint_io import save_state

        def tensors(x: Any) -> Any:
            if isinstance(x, dict):
                return {k: tensors(v) for k, v in x.items()}
            return torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x

        save_state(tensors(states), path)
    else:
        from skrl.jax.checkpoint_io import save_state

        save_state(states, path)


def convert_checkpoint(source: str, destination: str, to: str) -> list[str]:
    """Convert a grouped checkpoint to the ``to`` backend's format; returns the module names left out (optimizers)."""
    states = _read(source)
    if not isinstance(states, dict):
        raise ValueError(f"{source!r} is not a grouped agent checkpoint (a dict of module states)")
    converted, skipped = convert_modules(states, to)
    if not converted:
        raise ValueError(f"{source!r} holds no model or preprocessor this converter knows: {sorted(states)}")
    _write(converted, destination, to)
    if skipped:
        logger.info(f"Not converted (backend-specific layouts; a fresh state is used on load): {', '.join(skipped)}")
    return skipped
