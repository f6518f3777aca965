"""Backend-free wrapper of DeepMind ``dm_env`` environments (e.g. dm_control suites).

The specs are converted to gymnasium spaces by class name (``DiscreteArray``, ``BoundedArray``, ``Array``, or a
mapping of them), so ``dm_env`` need not be importable here. The end of an episode follows the ``dm_env``
convention: a last step with discount 0 is a termination, with a non-zero discount a truncation (time limit).
"""

from __future__ import annotations

from typing import Any, Mapping

import gymnasium
import numpy as np

from skrl.common.env_wrappers import ConvertedSpacesMixin, WrapperBase

__all__ = ["DeepMindWrapperBase", "convert_dm_spec"]


def convert_dm_spec(spec: Any) -> gymnasium.Space:
    """A ``dm_env`` spec as a gymnasium space: ``DiscreteArray`` -> Discrete, ``BoundedArray`` -> Box (scalar
    bounds broadcast), ``Array`` -> unbounded Box, a mapping -> Dict (keys kept).

    Raises:
        ValueError: the spec is of another type.
    """
    names = {cls.__name__ for cls in type(spec).__mro__}
    if "DiscreteArray" in names:
        return gymnasium.spaces.Discrete(int(spec.num_values))
    if "BoundedArray" in names:
        shape = tuple(spec.shape)
        low = np.broadcast_to(np.asarray(spec.minimum, dtype=spec.dtype), shape)
        high = np.broadcast_to(np.asarray(spec.maximum, dtype=spec.dtype), shape)
        return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=spec.dtype)
    if "Array" in names:
        return gymnasium.spaces.Box(low=-np.inf, high=np.inf, shape=tuple(spec.shape), dtype=spec.dtype)
    if isinstance(spec, Mapping):
        return gymnasium.spaces.Dict({key: convert_dm_spec(value) for key, value in spec.items()})
    raise ValueError(f"Unsupported dm_env spec type {type(spec).__name__}: expected DiscreteArray, BoundedArray, "
                     f"Array or a mapping of them. Received: {spec!r}")


def _as_arrays(observation: Any) -> Any:
    """NumPy scalars (dm_control's scalar observations) as 0-d arrays, in nested mappings too."""
    if isinstance(observation, Mapping):
        return {key: _as_arrays(value) for key, value in observation.items()}
    return np.asarray(observation)


class DeepMindWrapperBase(ConvertedSpacesMixin, WrapperBase):
    """Wrapper of a ``dm_env.Environment``: one environment, observations flattened in sorted key order."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._observation_space = convert_dm_spec(env.observation_spec())
        self._action_space = convert_dm_spec(env.action_spec())

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step with flattened actions ``(1, occupied_size)``; the info is empty."""
        timestep = self._env.step(self._env_actions(self.action_space, actions, squeeze=True))
        last = bool(timestep.last())
        terminated = last and (timestep.discount is None or float(timestep.discount) == 0.0)
        reward = 0.0 if timestep.reward is None else timestep.reward
        return (self._flatten(self.observation_space, _as_arrays(timestep.observation)), self._column(reward, np.float32),
                self._column(terminated, np.bool_), self._column(last and not terminated, np.bool_), {})

    def reset(self) -> tuple[Any, Any]:
        """Reset the env: ``(observations, {})``."""
        return self._flatten(self.observation_space, _as_arrays(self._env.reset().observation)), {}

    def render(self, height: int = 480, width: int = 640, camera_id: int = 0) -> Any:
        """An RGB frame from the env's ``physics`` (dm_control), or None for envs without one."""
        physics = getattr(self._env, "physics", None)
        return None if physics is None else physics.render(height, width, camera_id=camera_id)

    def close(self) -> None:
        """Close the env."""
        self._env.close()
