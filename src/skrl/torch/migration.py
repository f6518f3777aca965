"""Torch side of checkpoint migration: read foreign torch files safely, describe and assign state dicts.

The mapping itself (``skrl.common.migration``) is shared with JAX, which reads foreign files through
``read_source`` here.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import torch

from skrl.common import migration as common
from skrl.common.errors import CheckpointFileError
from skrl.torch.checkpoint_io import load_state


def _load(file: Any, name: str, device: Any) -> Any:
    """``torch.load(weights_only=True)`` with the NumPy scalar allowlist; errors name ``name``, not a buffer."""
    try:
        return load_state(file, device)
    except CheckpointFileError as e:
        raise type(e)(str(e).replace(repr(file), repr(name))) from None


def read_source(path: str, device: Any = None) -> Any:
    """The content of an rl_games/CleanRL torch file or of a Stable-Baselines3 archive's ``policy.pth``."""
    return common.read_source_file(path, lambda file, name: _load(file, name, device))


def describe_model(model: torch.nn.Module) -> dict[str, tuple]:
    """``{state-dict key: shape}``; lazy modules must be materialised first."""
    state = model.state_dict()
    lazy = [k for k, v in state.items() if isinstance(v, torch.nn.parameter.UninitializedParameter)]
    if lazy:
        raise ValueError(f"Cannot migrate into {type(model).__name__}: its lazy parameters ({', '.join(lazy)}) are not "
                         "initialised yet. Call model.init_state_dict(role) first")
    return {key: tuple(value.shape) for key, value in state.items()}


def assign_parameters(model: torch.nn.Module, values: Mapping[str, Any]) -> None:
    """Load ``{state-dict key: array}`` (tensors or NumPy arrays) with each entry's shape and dtype."""
    state = model.state_dict()
    new_state = {key: torch.as_tensor(values[key]).detach().reshape(target.shape).to(target.dtype)
                 for key, target in state.items()}
    model.load_state_dict(new_state, strict=True)


@torch.no_grad()
def assign_statistics(preprocessor: Any, values: Mapping[str, Any]) -> None:
    """Copy ``{"running_mean", "running_variance", "current_count"}`` into a ``RunningStandardScaler``'s buffers."""
    for key, value in values.items():
        buffer = getattr(preprocessor, key)
        buffer.copy_(torch.as_tensor(value).reshape(buffer.shape).to(buffer.dtype))


BACKEND = common.MigrationBackend(read_source, describe_model, assign_parameters, assign_statistics)


def migrate_model(model: torch.nn.Module, state_dict: Optional[Mapping[str, Any]] = None, path: Optional[str] = None,
                  name_map: Optional[Mapping[str, str]] = None, auto_mapping: bool = True,
                  verbose: bool = False) -> bool:
    """``Model.migrate`` (see ``skrl.common.migration.migrate_model``), reading files onto the model's device."""
    return common.migrate_model(BACKEND, model, state_dict, path, name_map, auto_mapping, verbose, device=model.device)
