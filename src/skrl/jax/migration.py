"""JAX side of checkpoint migration: describe Flax parameters with torch names and layouts, assign arrays.

A parameter path is described torch-style so that the shared matcher (``skrl.common.migration``) and one
``name_map`` serve both backends: the ``params`` collection is dropped, path parts join with ``.``, a
``Sequential`` child ``layers_<i>`` becomes ``<i>``, and ``kernel``/``scale``/``embedding`` become ``weight``.
A ``kernel`` is described in torch layout (``(in, out)`` as ``(out, in)``; a convolution's ``(*spatial, in, out)``
as ``(out, in, *spatial)``) and transposed back on assignment.
Example: ``{"params": {"net_container": {"layers_0": {"kernel": (3, 32)}}}}`` is ``net_container.0.weight (32, 3)``.

Foreign files are torch pickles: they are read with torch (imported on first use; the ``torch`` extra).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common import migration as common

_WEIGHT_LEAVES = ("kernel", "scale", "embedding")


@dataclasses.dataclass(frozen=True)
class _Leaf:
    """A Flax parameter as the matcher sees it: ``shape`` in torch layout; ``axes`` turns it back (None: as is)."""

    path: tuple
    shape: tuple
    axes: Optional[tuple]


def _torch_style(path: tuple, shape: tuple) -> tuple[str, _Leaf]:
    keys = [str(getattr(k, "key", getattr(k, "idx", k))) for k in path]
    if len(keys) > 1 and keys[0] == "params":
        keys = keys[1:]
    keys = [re.sub(r"^layers_(\d+)$", r"\1", key) for key in keys]
    axes = None
    if keys[-1] == "kernel" and len(shape) >= 2:
        ndim = len(shape)
        axes = (*range(2, ndim), 1, 0)  # torch (out, in, *spatial) -> Flax (*spatial, in, out)
        shape = tuple(shape[a] for a in (ndim - 1, ndim - 2, *range(ndim - 2)))
    if keys[-1] in _WEIGHT_LEAVES:
        keys[-1] = "weight"
    return ".".join(keys), _Leaf(tuple(path), tuple(shape), axes)


def _layout(model: Any) -> dict[str, _Leaf]:
    state_dict = getattr(model, "state_dict", None)
    if not hasattr(state_dict, "params"):
        raise ValueError(f"Cannot migrate into {type(model).__name__}: its parameters are not initialised yet. "
                         "Call model.init_state_dict(role) first")
    layout: dict[str, _Leaf] = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(state_dict.params)[0]:
        name, described = _torch_style(path, tuple(np.shape(leaf)))
        if name in layout:
            raise ValueError(f"Cannot migrate into {type(model).__name__}: two parameters are both described as "
                             f"{name!r}")
        layout[name] = described
    return layout


def _to_numpy(value: Any) -> np.ndarray:
    """A host array from a torch tensor (read from a foreign file), a NumPy or a JAX array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        return (value.float() if str(value.dtype) == "torch.bfloat16" else value).numpy()  # NumPy has no bfloat16
    return np.asarray(value)


def read_source(path: str, device: Any = None) -> Any:
    """Read a foreign torch file (or Stable-Baselines3 archive) on the CPU with skrl's safe torch reader."""
    del device
    try:
        from skrl.torch.migration import read_source as read_with_torch
    except ImportError as e:
        raise ImportError("Migrating rl_games, Stable-Baselines3 or CleanRL checkpoints needs PyTorch to read their "
                          "files: install it with `pip install skrl[torch]`") from e
    return read_with_torch(path, "cpu")


def describe_model(model: Any) -> dict[str, tuple]:
    return {name: leaf.shape for name, leaf in _layout(model).items()}


def assign_parameters(model: Any, values: Mapping[str, Any]) -> None:
    """Set every parameter from ``{described name: array in torch layout}`` (transposed back, cast to its dtype)."""
    by_path = {leaf.path: (name, leaf) for name, leaf in _layout(model).items()}

    def restore(path: tuple, current: Any) -> jax.Array:
        name, leaf = by_path[tuple(path)]
        array = _to_numpy(values[name]).reshape(leaf.shape)
        if leaf.axes is not None:
            array = array.transpose(leaf.axes)
        return jnp.asarray(array, dtype=current.dtype)

    with jax.default_device(model.device):
        params = jax.tree_util.tree_map_with_path(restore, model.state_dict.params)
    model.state_dict = model.state_dict.replace(params=params)


def assign_statistics(preprocessor: Any, values: Mapping[str, Any]) -> None:
    """Set a ``RunningStandardScaler``'s statistics (its setter casts them and checks their shapes)."""
    current = preprocessor.params
    preprocessor.params = {key: _to_numpy(value).reshape(np.shape(current[key])) for key, value in values.items()}


BACKEND = common.MigrationBackend(read_source, describe_model, assign_parameters, assign_statistics)


def migrate_model(model: Any, state_dict: Optional[Mapping[str, Any]] = None, path: Optional[str] = None,
                  name_map: Optional[Mapping[str, str]] = None, auto_mapping: bool = True,
                  verbose: bool = False) -> bool:
    """``Model.migrate`` (see ``skrl.common.migration.migrate_model``) for a Flax model."""
    return common.migrate_model(BACKEND, model, state_dict, path, name_map, auto_mapping, verbose)
