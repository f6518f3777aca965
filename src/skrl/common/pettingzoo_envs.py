"""Backend-free wrapper of PettingZoo environments (the parallel API): every value is a dict keyed by agent id.

Per agent, actions arrive flattened ``(1, occupied_size)`` and reach the env untensorized (a Python int for a
Discrete space); observations are flattened to ``(1, occupied_size)``, rewards are ``(1, 1)`` float32 and
terminated/truncated ``(1, 1)`` bool.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from skrl.common.env_wrappers import MultiAgentEnvWrapperBase

__all__ = ["PettingZooWrapperBase"]


class PettingZooWrapperBase(MultiAgentEnvWrapperBase):
    """Wrapper of a PettingZoo ``ParallelEnv`` (one environment; agents may leave during an episode)."""

    @property
    def num_envs(self) -> int:
        """PettingZoo envs are not vectorized: 1."""
        return 1

    @property
    def observation_spaces(self) -> dict:
        """Observation space per possible agent (``env.observation_space(agent)``)."""
        return {uid: self._env.observation_space(uid) for uid in self.possible_agents}

    @property
    def action_spaces(self) -> dict:
        """Action space per possible agent (``env.action_space(agent)``)."""
        return {uid: self._env.action_space(uid) for uid in self.possible_agents}

    @property
    def state_spaces(self) -> dict:
        """The env's global state space (None if it has none), for every possible agent."""
        space = getattr(self._env, "state_space", None)
        return {uid: space for uid in self.possible_agents}

    def _observations(self, observations: Mapping[str, Any]) -> dict:
        return {uid: self._flatten(self.observation_space(uid), value) for uid, value in observations.items()}

    def _columns(self, values: Mapping[str, Any], dtype: Any) -> dict:
        return {uid: self._column(value, dtype) for uid, value in values.items()}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Step the agents still in the episode (``env.agents``) with their flattened actions."""
        live = set(getattr(self._env, "agents", actions))
        env_actions = {uid: self._env_actions(self.action_space(uid), a, squeeze=True)
                       for uid, a in actions.items() if uid in live}
        observations, rewards, terminated, truncated, infos = self._env.step(env_actions)
        return (self._observations(observations), self._columns(rewards, np.float32),
                self._columns(terminated, np.bool_), self._columns(truncated, np.bool_), infos)

    def reset(self) -> tuple[dict, dict]:
        """Reset the env: per-agent observations and infos (empty infos for envs of the old, observation-only API)."""
        result = self._env.reset()
        if isinstance(result, Mapping):
            observations, infos = result, {uid: {} for uid in self.possible_agents}
        else:
            observations, infos = result
        return self._observations(observations), infos

    def state(self) -> Any:
        """The env's global state, flattened with its state space."""
        return self._flatten(next(iter(self.state_spaces.values())), self._env.state())

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the env."""
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        """Close the env."""
        self._env.close()
