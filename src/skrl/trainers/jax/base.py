"""JAX ``Trainer``: the backend hooks of the common trainer loop."""

from __future__ import annotations

from typing import Any, Union

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.trainer_core import TrainerCore, generate_equally_spaced_scopes

__all__ = ["Trainer", "generate_equally_spaced_scopes"]


class Trainer(TrainerCore):
    """Base class of the JAX trainers: no gradient context is needed; NumPy actions stay NumPy when stacked."""

    backend = "jax"

    def _concatenate(self, actions: list) -> Union[np.ndarray, jax.Array]:
        if all(isinstance(action, np.ndarray) for action in actions):
            return np.vstack(actions)
        return jnp.vstack(actions)

    def _is_scalar_array(self, value: Any) -> bool:
        return isinstance(value, jax.Array) and value.size == 1
