"""JAX-native environments as pure functions over a batch of ``num_envs`` copies, for ``JittedTrainer``.

The jitted trainer needs an environment it can trace::

    env_state, observations = functions.reset(key)
    env_state, observations, rewards, terminated, truncated = functions.step(env_state, actions, key)

with observations ``(num_envs, size)``, rewards ``(num_envs, 1)`` float32, terminated/truncated ``(num_envs, 1)``
bool, and finished episodes reset inside ``step``. ``functional_env`` gets these functions from a gymnax env
wrapped by ``skrl.envs.wrappers.jax.wrap_env(env, wrapper="gymnax", num_envs=...)`` (the same env the host
trainers step), or takes an object that provides them and sets ``functional = True``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import jax
import jax.numpy as jnp

from skrl.jax.functional_envs import _gymnax_reset, _gymnax_step


class GymnaxFunctions:
    """Pure batched ``reset``/``step`` of the gymnax env inside a skrl gymnax wrapper (same params and copies)."""

    functional = True

    def __init__(self, wrapped: Any) -> None:
        self.env = wrapped._unwrapped
        self.params = wrapped._driver._params
        self.num_envs = wrapped.num_envs
        self.observation_space = wrapped.observation_space
        self.action_space = wrapped.action_space

    def reset(self, key: jax.Array) -> tuple:
        """``(env_state, observations)`` of ``num_envs`` fresh episodes."""
        _, observations, env_state = _gymnax_reset(self.env, self.num_envs, key, self.params)
        return env_state, self._observations(observations)

    def step(self, env_state: Any, actions: jax.Array, key: jax.Array) -> tuple:
        """One step of every copy (flattened actions); episodes that end are reset."""
        if isinstance(self.action_space, gymnasium.spaces.Discrete):
            actions = actions.reshape(self.num_envs).astype(jnp.int32)
        else:
            actions = actions.reshape((self.num_envs, *self.action_space.shape))
        _, observations, env_state, rewards, terminated, truncated = _gymnax_step(self.env, key, env_state, actions,
                                                                                   self.params)
        column = (self.num_envs, 1)
        return (env_state, self._observations(observations), rewards.reshape(column), terminated.reshape(column),
                truncated.reshape(column))

    def _observations(self, observations: jax.Array) -> jax.Array:
        return observations.reshape(self.num_envs, -1).astype(jnp.float32)


def functional_env(env: Any) -> Any:
    """The pure functions of ``env`` (see the module docstring).

    Raises:
        TypeError: ``env`` is neither a wrapped gymnax env nor an object with ``functional = True``.
    """
    if getattr(env, "functional", False):
        return env
    if type(getattr(env, "_driver", None)).__name__ == "GymnaxDriver":
        return GymnaxFunctions(env)
    raise TypeError("JittedTrainer needs a JAX-native environment: a gymnax env wrapped with "
                    "skrl.envs.wrappers.jax.wrap_env(env, wrapper='gymnax', num_envs=...), or an object with "
                    f"functional = True and pure reset(key) / step(env_state, actions, key). Received: {type(env).__name__}")
