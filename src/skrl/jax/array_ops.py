"""Leaf array operations of the JAX backend, used by the spaces utilities and the env wrappers.

With ``use_jax=True`` outputs are ``jax.Array`` on the given device; with ``use_jax=False`` (skrl's "numpy"
array backend) they are NumPy arrays. NumPy data keeps its dtype in both cases.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config


@functools.lru_cache(maxsize=None)
def _transfer_to(device: jax.Device) -> Any:
    """A jitted identity whose output lives on ``device``: a new buffer for each call.

    It replaces ``jax.device_put`` for host data: on the CPU, ``device_put`` of a small NumPy array may alias the
    array's memory (an env that rewrites its buffers in place would then change arrays already handed out), and
    it costs ~30-40 us a call against ~6 us for the jitted transfer.
    """
    return jax.jit(lambda x: x, out_shardings=jax.sharding.SingleDeviceSharding(device))


class JaxArrayOps:
    """``skrl.common.spaces.SpaceArrayOps`` for JAX, producing ``jax.Array`` or ``np.ndarray`` per ``use_jax``."""

    numpy_casts: dict = {}

    def __init__(self, use_jax: bool) -> None:
        self.use_jax = use_jax

    def is_native(self, x: Any) -> bool:
        return isinstance(x, jax.Array)

    def is_leaf(self, x: Any) -> bool:
        return isinstance(x, (jax.Array, np.ndarray))

    def adopt(self, x: jax.Array) -> Any:
        return x if self.use_jax else np.asarray(jax.device_get(x))

    def parse_device(self, device: Any) -> jax.Device:
        return device if isinstance(device, jax.Device) else config.jax.parse_device(device)

    def from_numpy(self, x: np.ndarray, device: Any = None) -> Any:
        return _transfer_to(self.parse_device(device))(x) if self.use_jax else x

    def from_numpy_many(self, xs: Sequence[np.ndarray], device: Any = None) -> list:
        """One jitted transfer for every array (an env step's observations, rewards and flags: ~6 us, not ~6 each)."""
        return list(_transfer_to(self.parse_device(device))(tuple(xs))) if self.use_jax else list(xs)

    def to_numpy(self, x: jax.Array) -> np.ndarray:
        return np.asarray(x)  # one array: a blocking read (on the CPU, of memory already on the host)

    def concatenate(self, xs: Sequence[Any]) -> Any:
        return jnp.concatenate(list(xs), axis=-1) if self.use_jax else np.concatenate(list(xs), axis=-1)

    def numpy_dtype(self, dtype: Any) -> np.dtype:
        """The NumPy dtype of arrays of ``dtype`` (JAX dtypes are NumPy dtypes)."""
        return np.dtype(dtype)

    native_dtype = numpy_dtype


JAX_ARRAY_OPS = {True: JaxArrayOps(use_jax=True), False: JaxArrayOps(use_jax=False)}


def array_ops_for_backend() -> JaxArrayOps:
    """The ops matching ``config.jax.backend`` now ("jax": JAX arrays, "numpy": NumPy arrays)."""
    return JAX_ARRAY_OPS[config.jax.backend == "jax"]
