"""Backend-free step/reset flow of the gymnasium and OpenAI gym wrappers.

Actions arrive flattened ``(num_envs, occupied_size)`` and are unflattened and untensorized into what the env
expects (a Python int for a single env's Discrete action, a ``(num_envs,)`` array for a vector env's).
Observations are tensorized and flattened; rewards become ``(num_envs, 1)`` float32 and terminated/truncated
``(num_envs, 1)`` bool arrays of the backend, on the wrapper's device.

Gymnasium >= 1.0 vector envs reset a finished sub-env either on the *next* step (``AutoresetMode.NEXT_STEP``,
the default: that step ignores the action and returns the reset observation with reward 0) or in the *same*
step. In the next-step (and disabled) modes, the wrapper resets finished sub-envs at once (``reset_mask``,
gymnasium >= 1.1; a vector env that does not declare its mode is left alone, with a warning), so that the
observations it returns after a finished episode are the new episode's, as in the same-step mode, and agents
never record a transition from a terminal observation to a reset one. The observations returned by the
finishing step are kept in ``info["final_obs"]``, with the mask of finished sub-envs in ``info["_final_obs"]``.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import gymnasium
import numpy as np

from skrl._logging import logger
from skrl.common.env_wrappers import ConvertedSpacesMixin, WrapperBase
from skrl.common.spaces import convert_gym_space, space_kind

__all__ = ["GymWrapperBase", "GymnasiumWrapperBase", "batched_for_vector_env"]

_SAME_STEP = "SameStep"


def _autoreset_mode(env: Any) -> Optional[str]:
    """The vector env's autoreset mode as a string (``"NextStep"``, ``"SameStep"``, ``"Disabled"``), or None."""
    mode = (getattr(env, "metadata", None) or {}).get("autoreset_mode")
    return None if mode is None else str(getattr(mode, "value", mode))


def batched_for_vector_env(space: Any, actions: Any) -> Any:
    """Give Discrete leaves the ``(num_envs,)`` shape that a vector env's batched action space has."""
    kind = space_kind(space)
    if kind == "discrete":
        return actions.reshape(-1)
    if kind == "tuple":
        return tuple(batched_for_vector_env(s, a) for s, a in zip(space, actions))
    if kind == "dict":
        return {k: batched_for_vector_env(s, actions[k]) for k, s in space.items()}
    return actions


class GymnasiumWrapperBase(WrapperBase):
    """Wrapper of a gymnasium env or ``gymnasium.vector.VectorEnv`` (backends add ``_create_array_ops``)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._vectorized = self._is_vector_env(env)
        self._reset_once = True
        self._observation: Any = None
        self._info: Any = None
        self._reset_finished_envs = self._vectorized and self._resets_finished_envs(self._autoreset_mode(env))

    def _is_vector_env(self, env: Any) -> bool:
        return isinstance(env, gymnasium.vector.VectorEnv)

    def _autoreset_mode(self, env: Any) -> Optional[str]:
        return _autoreset_mode(env)

    @staticmethod
    def _resets_finished_envs(mode: Optional[str]) -> bool:
        """Whether the wrapper must reset finished sub-envs itself (any mode but same-step; needs ``reset_mask``)."""
        if mode is None:
            logger.warning(
                "The vector environment does not declare its autoreset mode (metadata['autoreset_mode'], "
                "gymnasium>=1.1), so finished sub-environments are left to it: agents may record transitions "
                "from a terminal observation to a reset one. Use gymnasium>=1.1 vector environments"
            )
        return mode is not None and mode != _SAME_STEP

    @property
    def observation_space(self) -> gymnasium.Space:
        """The observation space of one environment (``single_observation_space`` of a vector env)."""
        return self._env.single_observation_space if self._vectorized else self._env.observation_space

    @property
    def action_space(self) -> gymnasium.Space:
        """The action space of one environment (``single_action_space`` of a vector env)."""
        return self._env.single_action_space if self._vectorized else self._env.action_space

    def _env_step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        return self._env.step(actions)

    def _env_reset(self, **kwargs: Any) -> tuple[Any, Any]:
        return self._env.reset(**kwargs)

    def _actions_for_env(self, actions: Any) -> Any:
        space = self.action_space
        actions = self._env_actions(space, actions, squeeze=not self._vectorized)
        return batched_for_vector_env(space, actions) if self._vectorized else actions

    def _observations(self, observations: Any) -> Any:
        return self._flatten(self.observation_space, observations)

    def _reset_finished(self, observations: Any, terminated: Any, truncated: Any, info: Any) -> tuple[Any, Any]:
        """Reset the finished sub-envs of a next-step autoreset vector env; keep the step's observations in info."""
        finished = np.logical_or(np.asarray(terminated), np.asarray(truncated)).reshape(-1).astype(np.bool_)
        if not finished.any():
            return observations, info
        final_observations = copy.deepcopy(observations)  # a vector env built with copy=False reuses its buffer
        reset_observations, _ = self._env_reset(options={"reset_mask": finished})
        info = {**info, "final_obs": final_observations, "_final_obs": finished}
        return reset_observations, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step with flattened actions ``(num_envs, occupied_action_size)``; returns flattened, batched outputs."""
        observations, reward, terminated, truncated, info = self._env_step(self._actions_for_env(actions))
        if self._reset_finished_envs:
            observations, info = self._reset_finished(observations, terminated, truncated, info)
        columns = [self._host_column(reward, np.float32), self._host_column(terminated, np.bool_),
                   self._host_column(truncated, np.bool_)]
        host_observations = self._host_flat(self.observation_space, observations)
        if host_observations is not None:  # everything reaches the device in one transfer
            observations, *columns = self._ops.from_numpy_many([host_observations, *columns], self.device)
        else:
            observations = self._observations(observations)
            columns = self._ops.from_numpy_many(columns, self.device)
        outputs = (observations, *columns, info)
        if self._vectorized:
            self._observation, self._info = observations, info
        return outputs

    def reset(self) -> tuple[Any, Any]:
        """Reset: a single env every call; a vector env (which autoresets) only at the first call.

        Later calls on a vector env return the observations and info of the last step or reset.
        """
        if not self._vectorized:
            observations, info = self._env_reset()
            return self._observations(observations), info
        if self._reset_once:
            observations, self._info = self._env_reset()
            self._observation = self._observations(observations)
            self._reset_once = False
        return self._observation, self._info

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the env (``env.call("render", ...)`` for a vector env)."""
        if self._vectorized:
            return self._env.call("render", *args, **kwargs)
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        """Close the env."""
        self._env.close()


class GymWrapperBase(ConvertedSpacesMixin, GymnasiumWrapperBase):
    """Wrapper of an OpenAI gym env or ``gym.vector.VectorEnv``; spaces are converted to gymnasium spaces.

    gym < 0.25 (4-value ``step``, observation-only ``reset``) is adapted: truncation is read from
    ``info["TimeLimit.truncated"]``.
    """

    def __init__(self, env: Any) -> None:
        try:
            import gym
        except ImportError as e:
            raise ImportError("The gym wrapper needs OpenAI gym: install it with `pip install gym`") from e
        from packaging.version import Version

        self._gym = gym
        if not hasattr(np, "bool8"):  # gym uses the alias removed in NumPy 2
            np.bool8 = np.bool_
        self._deprecated_api = Version(gym.__version__) < Version("0.25.0")
        if self._deprecated_api:
            logger.warning(f"Using a deprecated version of OpenAI Gym's API: {gym.__version__}")
        super().__init__(env)
        self._observation_space = convert_gym_space(GymnasiumWrapperBase.observation_space.fget(self))
        self._action_space = convert_gym_space(GymnasiumWrapperBase.action_space.fget(self))

    def _is_vector_env(self, env: Any) -> bool:
        return isinstance(env, self._gym.vector.VectorEnv)

    def _autoreset_mode(self, env: Any) -> str:
        return _SAME_STEP  # gym vector envs return the reset observation in the finishing step

    def _env_step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        if not self._deprecated_api:
            return self._env.step(actions)
        observations, reward, terminated, info = self._env.step(actions)
        if self._vectorized:
            truncated = np.array([d.get("TimeLimit.truncated", False) for d in info], dtype=np.bool_)
            terminated = np.logical_and(terminated, np.logical_not(truncated))
            return observations, reward, terminated, truncated, {}
        truncated = bool(info.get("TimeLimit.truncated", False))
        return observations, reward, terminated and not truncated, truncated, info

    def _env_reset(self, **kwargs: Any) -> tuple[Any, Any]:
        if self._deprecated_api:
            return self._env.reset(**kwargs), {}
        return self._env.reset(**kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render a single env (a vector env renders nothing and returns None)."""
        return None if self._vectorized else self._env.render(*args, **kwargs)
