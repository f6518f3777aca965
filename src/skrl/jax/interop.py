"""Arrays of other frameworks as JAX arrays, for environments that do not run on JAX (Isaac's torch, NumPy)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def _from_torch(x: Any) -> jax.Array:
    """A torch tensor through DLPack (no copy) when JAX can adopt its device, else through NumPy."""
    x = x.detach().contiguous()
    try:
        return jax.dlpack.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError, ValueError):
        return jnp.asarray(x.cpu().numpy())


def as_native_array(x: Any, device: Any = None) -> jax.Array:
    """``x`` (a JAX array, NumPy array, Python scalar or torch tensor) as a JAX array on ``device`` (None: where it is)."""
    if isinstance(x, jax.Array):
        array = x
    elif hasattr(x, "detach") and hasattr(x, "__dlpack__"):
        array = _from_torch(x)
    else:
        array = jnp.asarray(np.asarray(x))
    return array if device is None else jax.device_put(array, device)
