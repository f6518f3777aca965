"""Spaces utilities for JAX: convert gymnasium samples to and from (flattened) JAX or NumPy arrays.

``_jax=True`` produces ``jax.Array`` (NumPy leaves are placed on ``device``), ``_jax=False`` produces
``np.ndarray``. NumPy data keeps its dtype (only JAX's default-precision rules apply on device).
"""

from typing import Any

from skrl.common.spaces import SpaceFunctions, compute_space_size, convert_gym_space, unflatten_tensorized_space
from skrl.jax.array_ops import JAX_ARRAY_OPS

_functions = {use_jax: SpaceFunctions(ops) for use_jax, ops in JAX_ARRAY_OPS.items()}

untensorize_space = _functions[True].untensorize_space
sample_space = _functions[True].sample_space


def tensorize_space(space: Any, x: Any, *, device: Any = None, _jax: bool = True) -> Any:
    """Turn a sample (single or batched) into a tensorized space: JAX arrays if ``_jax`` else NumPy arrays."""
    return _functions[_jax].tensorize_space(space, x, device=device)


def flatten_tensorized_space(x: Any, *, _jax: bool = True) -> Any:
    """Flatten a tensorized space to ``(batch, occupied_size)``, concatenating with ``jnp`` if ``_jax`` else ``np``."""
    return _functions[_jax].flatten_tensorized_space(x)


__all__ = [
    "compute_space_size", "convert_gym_space", "flatten_tensorized_space", "sample_space", "tensorize_space",
    "unflatten_tensorized_space", "untensorize_space",
]
