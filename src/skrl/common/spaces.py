"""Backend-free logic of the spaces utilities: space sizes, gym conversion, and the recursion over composite spaces.

A *tensorized space* mirrors a sample of a gymnasium space, with every leaf a batched array. The recursion
over ``Tuple``/``Dict`` and the shape rules live here once; a backend supplies only leaf operations through a
``SpaceArrayOps`` object (create an array from NumPy data, convert to NumPy, concatenate). The public
modules ``skrl.utils.spaces.torch`` and ``skrl.utils.spaces.jax`` bind ``SpaceFunctions`` to their ops.

Supported spaces are Box, Discrete and MultiDiscrete (leaves) and Tuple and Dict (composites).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Protocol, Sequence

import gymnasium
import numpy as np
from gymnasium.vector.utils import batch_space

__all__ = [
    "SpaceArrayOps",
    "SpaceFunctions",
    "compute_space_size",
    "convert_gym_space",
    "space_kind",
    "unflatten_tensorized_space",
]

_KINDS = {
    gymnasium.spaces.Box: "box",
    gymnasium.spaces.Discrete: "discrete",
    gymnasium.spaces.MultiDiscrete: "multidiscrete",
    gymnasium.spaces.Tuple: "tuple",
    gymnasium.spaces.Dict: "dict",
}
_CLASS_NAMES = {cls.__name__: kind for cls, kind in _KINDS.items()}
_SAMPLE_BACKENDS = ("numpy", "native")


class SpaceArrayOps(Protocol):
    """Leaf operations a backend provides to the spaces utilities (and to the env wrappers)."""

    numpy_casts: dict
    """dtype to which NumPy leaves are cast when tensorized, per leaf kind (absent: dtype kept)."""

    def is_native(self, x: Any) -> bool:
        """Whether ``x`` is an array of the framework (only reshaped when tensorized)."""

    def is_leaf(self, x: Any) -> bool:
        """Whether ``x`` is an array that ``flatten_tensorized_space`` accepts as a leaf."""

    def adopt(self, x: Any) -> Any:
        """Bring a framework array into the output form (e.g. fetch a JAX array when the output is NumPy)."""

    def parse_device(self, device: Any) -> Any:
        """Resolve ``device`` (None: the default device) to the framework's device object."""

    def from_numpy(self, x: np.ndarray, device: Any = None) -> Any:
        """A new output array with the data of ``x`` on ``device`` (None: the default device)."""

    def from_numpy_many(self, xs: Sequence[np.ndarray], device: Any = None) -> list:
        """``from_numpy`` of each array (a backend may transfer them all at once)."""

    def to_numpy(self, x: Any) -> np.ndarray:
        """The data of a framework array as a NumPy array on the host."""

    def concatenate(self, xs: Sequence[Any]) -> Any:
        """Concatenate 2-D leaves along the last axis."""


def space_kind(space: Any) -> Optional[str]:
    """The kind of a gymnasium space: ``"box"``, ``"discrete"``, ``"multidiscrete"``, ``"tuple"``, ``"dict"``, or None."""
    for cls, kind in _KINDS.items():
        if isinstance(space, cls):
            return kind
    return None


def _leaf_kind(space: Any) -> str:
    kind = space_kind(space)
    if kind is None:
        raise ValueError(f"Unsupported space ({space})")
    return kind


def _leaf_shape(kind: str, space: Any) -> tuple:
    """Shape of one sample of a leaf space once tensorized (without the batch dimension)."""
    return (1,) if kind == "discrete" else tuple(space.shape)


def compute_space_size(space: Any, *, occupied_size: bool = False) -> int:
    """Number of elements of ``space`` (a gymnasium space, an int, or a shape).

    With ``occupied_size=True`` discrete spaces count one column per value (the index is stored, not one-hot),
    which is the width of the flattened tensorized space: ``Discrete(5)`` gives 1, ``MultiDiscrete([3, 4])`` 2.
    Otherwise the size is ``gymnasium.spaces.flatdim``: ``Discrete(5)`` gives 5, ``MultiDiscrete([3, 4])`` 7.
    """
    if space is None:
        return 0
    if occupied_size:
        kind = space_kind(space)
        if kind == "discrete":
            return 1
        if kind == "multidiscrete":
            return int(np.prod(space.nvec.shape))
        if kind == "tuple":
            return sum(compute_space_size(s, occupied_size=True) for s in space)
        if kind == "dict":
            return sum(compute_space_size(s, occupied_size=True) for s in space.values())
    if isinstance(space, (int, float, np.integer, np.floating)):
        return space
    if isinstance(space, (tuple, list)):
        return int(np.prod(space))
    return gymnasium.spaces.flatdim(space)


def _foreign_kind(space: Any) -> Optional[str]:
    """Kind of a gym or gymnasium space, found by class name and module so that gym need not be imported."""
    for cls in type(space).__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("gym", "gymnasium") and ".spaces" in cls.__module__ and cls.__name__ in _CLASS_NAMES:
            return _CLASS_NAMES[cls.__name__]
    return None


def convert_gym_space(space: Any, *, squeeze_batch_dimension: bool = False) -> Any:
    """Convert an OpenAI gym space (or a gymnasium one) to an equivalent gymnasium space, recursively.

    ``squeeze_batch_dimension=True`` drops the leading dimension of Box leaves (for envs such as Brax whose
    spaces include the batch). ``None`` gives ``None``.
    """
    if space is None:
        return None
    kind = _foreign_kind(space)
    if kind == "box":
        low, high, shape = np.asarray(space.low), np.asarray(space.high), tuple(space.shape)
        if squeeze_batch_dimension:
            low, high, shape = low[0], high[0], shape[1:]
        return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=space.dtype)
    if kind == "discrete":
        return gymnasium.spaces.Discrete(n=int(space.n), start=int(getattr(space, "start", 0)))
    if kind == "multidiscrete":
        return gymnasium.spaces.MultiDiscrete(nvec=np.asarray(space.nvec))
    if kind == "tuple":
        return gymnasium.spaces.Tuple(
            [convert_gym_space(s, squeeze_batch_dimension=squeeze_batch_dimension) for s in space.spaces]
        )
    if kind == "dict":
        return gymnasium.spaces.Dict(
            {k: convert_gym_space(s, squeeze_batch_dimension=squeeze_batch_dimension) for k, s in space.spaces.items()}
        )
    raise ValueError(f"Unsupported space ({space})")


def unflatten_tensorized_space(space: Any, x: Any) -> Any:
    """Inverse of ``flatten_tensorized_space``: split ``x`` of shape ``(batch, occupied_size)`` per the space.

    Leaves are reshaped views of ``x`` (dtype and device unchanged). A Tuple comes back as a ``list`` and a Dict
    as a ``dict`` whose columns are taken in sorted key order.
    """
    if space is None or x is None:
        return None
    kind = space_kind(space)
    if kind in ("tuple", "dict"):
        keys = sorted(space.keys()) if kind == "dict" else range(len(space))
        parts, start = {}, 0
        for key in keys:
            stop = start + compute_space_size(space[key], occupied_size=True)
            parts[key] = unflatten_tensorized_space(space[key], x[:, start:stop])
            start = stop
        return {k: parts[k] for k in space.keys()} if kind == "dict" else [parts[i] for i in keys]
    if kind is None:
        raise ValueError(f"Unsupported space ({space})")
    return x.reshape(-1, *_leaf_shape(kind, space))


class HostArrayOps:
    """NumPy leaf operations with a backend's casts: the host side of a wrapper's conversions (an observation is
    tensorized and flattened in NumPy, then transferred once)."""

    def __init__(self, numpy_casts: dict) -> None:
        self.numpy_casts = numpy_casts

    def is_native(self, x: Any) -> bool:
        return False

    def is_leaf(self, x: Any) -> bool:
        return isinstance(x, np.ndarray)

    def adopt(self, x: Any) -> Any:
        return x

    def parse_device(self, device: Any) -> Any:
        return None

    def from_numpy(self, x: np.ndarray, device: Any = None) -> np.ndarray:
        return x

    def from_numpy_many(self, xs: Sequence[np.ndarray], device: Any = None) -> list:
        return list(xs)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def concatenate(self, xs: Sequence[Any]) -> Any:
        return np.concatenate(list(xs), axis=-1)


class SpaceFunctions:
    """The spaces utilities bound to one backend's leaf operations.

    Each public backend module exposes the bound methods as its functions, e.g.
    ``tensorize_space = SpaceFunctions(TorchArrayOps()).tensorize_space``.
    """

    def __init__(self, ops: SpaceArrayOps) -> None:
        self.ops = ops

    def tensorize_space(self, space: Any, x: Any, *, device: Any = None) -> Any:
        """Turn a sample (single or batched) into a tensorized space whose leaves have a leading batch dimension.

        ``device`` is used only where a new array is created (NumPy data or Python scalars). Framework arrays
        are only reshaped, so tensorizing is idempotent. ``None`` for ``space`` or ``x`` gives ``None``.
        """
        if space is None or x is None:
            return None
        kind = _leaf_kind(space)
        if kind == "tuple":
            return tuple(self.tensorize_space(s, xi, device=device) for s, xi in zip(space, x))
        if kind == "dict":
            return {k: self.tensorize_space(s, x[k], device=device) for k, s in space.items()}
        shape = (-1, *_leaf_shape(kind, space))
        if self.ops.is_native(x):
            return self.ops.adopt(x).reshape(shape)
        if isinstance(x, np.ndarray):
            cast = self.ops.numpy_casts.get(kind)
            return self.ops.from_numpy(x.reshape(shape) if cast is None else x.reshape(shape).astype(cast), device)
        if kind == "discrete" and isinstance(x, (np.number, int, float)):
            return self.ops.from_numpy(np.array([x], dtype=np.int32).reshape(shape), device)
        if kind == "multidiscrete" and isinstance(x, (list, tuple)):
            return self.ops.from_numpy(np.array(x, dtype=np.int32).reshape(shape), device)
        raise ValueError(f"Unsupported type ({type(x)}) for the given space ({space})")

    def untensorize_space(self, space: Any, x: Any, *, squeeze_batch_dimension: bool = True) -> Any:
        """Turn a tensorized space back into NumPy arrays / Python scalars of the space's dtype, as envs accept.

        With ``squeeze_batch_dimension=True`` and a batch of one, Box and MultiDiscrete leaves take the space's
        shape and Discrete leaves become a Python scalar (an ``int`` for integer spaces).
        """
        if space is None or x is None:
            return None
        kind = _leaf_kind(space)
        if kind == "tuple":
            return tuple(self.untensorize_space(s, xi, squeeze_batch_dimension=squeeze_batch_dimension)
                         for s, xi in zip(space, x))
        if kind == "dict":
            return {k: self.untensorize_space(s, x[k], squeeze_batch_dimension=squeeze_batch_dimension)
                    for k, s in space.items()}
        if self.ops.is_native(x):
            x = self.ops.to_numpy(x)
        elif not isinstance(x, np.ndarray):
            raise ValueError(f"Unsupported type ({type(x)}) for the given space ({space})")
        x = np.asarray(x, dtype=space.dtype)
        if squeeze_batch_dimension and x.shape[0] == 1:
            return x.item() if kind == "discrete" else x.reshape(space.shape)
        return x.reshape(-1, *_leaf_shape(kind, space))

    def flatten_tensorized_space(self, x: Any) -> Any:
        """Flatten a tensorized space into one 2-D array ``(batch, occupied_size)``.

        Leaves are reshaped to ``(batch, -1)`` (a 1-D leaf counts as one sample); composites are concatenated
        on the last axis in order (a dict in sorted key order). Discrete values stay indexes (one column).
        """
        if x is None:
            return None
        if isinstance(x, (list, tuple)):
            return self.ops.concatenate([self.flatten_tensorized_space(xi) for xi in x])
        if isinstance(x, dict):
            return self.ops.concatenate([self.flatten_tensorized_space(x[k]) for k in sorted(x)])
        if self.ops.is_leaf(x):
            return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
        raise ValueError(f"Unsupported sample/value type ({type(x)})")

    def sample_space(
        self, space: Any, *, batch_size: int = 1, backend: Literal["numpy", "native"] = "numpy", device: Any = None
    ) -> Any:
        """Draw a batch of random samples (gymnasium's RNG), tensorized: NumPy arrays or framework arrays.

        Leaves have shapes ``(batch_size, *shape)`` (Box, MultiDiscrete) or ``(batch_size, 1)`` (Discrete).
        """
        if space is None:
            return None
        if backend not in _SAMPLE_BACKENDS:
            raise ValueError(f"Unsupported backend type ({backend}): expected one of 'numpy', 'native'")
        kind = _leaf_kind(space)
        if kind == "tuple":
            return tuple(self.sample_space(s, batch_size=batch_size, backend=backend, device=device) for s in space)
        if kind == "dict":
            return {k: self.sample_space(s, batch_size=batch_size, backend=backend, device=device)
                    for k, s in space.items()}
        sample = batch_space(space, batch_size).sample().reshape(batch_size, *_leaf_shape(kind, space))
        return sample if backend == "numpy" else self.ops.from_numpy(sample, device)
