"""Backend-free wrappers of the Isaac family: Isaac Lab (single- and multi-agent), Isaac Gym preview 2/3/4 and
Omniverse Isaac Gym.

These environments are vectorized and run on torch: actions are handed over as torch tensors on the env's
device (through ``skrl.torch.interop`` for JAX agents) and outputs are adopted by the agents' backend (shared
through DLPack where possible). They reset finished sub-environments themselves, so ``reset()`` runs the env's
reset once and afterwards returns the observations of the last step.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from skrl.common.env_wrappers import MultiAgentEnvWrapperBase, WrapperBase
from skrl.common.spaces import convert_gym_space, unflatten_tensorized_space

__all__ = [
    "IsaacGymPreview2WrapperBase",
    "IsaacGymPreview3WrapperBase",
    "IsaacLabMultiAgentWrapperBase",
    "IsaacLabWrapperBase",
    "OmniverseIsaacGymWrapperBase",
]


def _first_space(env: Any, names: tuple[str, ...], key: Optional[str] = None) -> Any:
    """The first of ``env``'s attributes ``names`` that exists (indexed by ``key``), or None."""
    for name in names:
        try:
            space = getattr(env, name)
            return space if key is None else space[key]
        except (AttributeError, KeyError, TypeError):
            continue
    return None


class _CachedResetMixin:
    """Reset once; later ``reset()`` calls return the observations and info of the last step (envs autoreset)."""

    _observations: Any = None
    _info: Any = None

    def _env_reset(self) -> tuple[Any, Any]:
        raise NotImplementedError

    def reset(self) -> tuple[Any, Any]:
        """Reset at the first call; then return the last step's observations and info."""
        if self._observations is None:
            self._observations, self._info = self._env_reset()
        return self._observations, self._info

    def render(self, *args: Any, **kwargs: Any) -> None:
        """The Isaac envs render themselves; nothing to return."""
        return None


class IsaacLabWrapperBase(_CachedResetMixin, WrapperBase):
    """Isaac Lab single-agent env: observations ``obs["policy"]``, optional state ``obs["critic"]``."""

    @property
    def _env_device(self) -> Any:
        return getattr(self._unwrapped, "device", None)

    @property
    def observation_space(self) -> Any:
        """``single_observation_space["policy"]`` (or ``observation_space["policy"]``)."""
        return _first_space(self._unwrapped, ("single_observation_space", "observation_space"), "policy")

    @property
    def state_space(self) -> Any:
        """``single_observation_space["critic"]``, else the env's ``state_space``, else None."""
        space = _first_space(self._unwrapped, ("single_observation_space",), "critic")
        return space if space is not None else getattr(self._unwrapped, "state_space", None)

    @property
    def action_space(self) -> Any:
        """``single_action_space`` (or ``action_space``)."""
        return _first_space(self._unwrapped, ("single_action_space", "action_space"))

    def _env_reset(self) -> tuple[Any, Any]:
        observations, info = self._env.reset()
        return self._flatten(self.observation_space, observations["policy"]), info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step with flattened actions; rewards and flags keep the env's dtypes, as ``(num_envs, 1)`` arrays."""
        actions = self._env_array(actions, "torch", self._env_device)
        observations, rewards, terminated, truncated, info = self._env.step(
            unflatten_tensorized_space(self.action_space, actions))
        self._observations = self._flatten(self.observation_space, observations["policy"])
        self._info = info
        columns = [self._adopt(x).reshape(-1, 1) for x in (rewards, terminated, truncated)]
        return (self._observations, *columns, info)

    def close(self) -> None:
        """Close the env."""
        self._env.close()


class IsaacLabMultiAgentWrapperBase(_CachedResetMixin, MultiAgentEnvWrapperBase):
    """Isaac Lab multi-agent (``DirectMARLEnv``) env: every value is a dict keyed by agent id."""

    def _per_agent(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {uid: self._flatten(self.observation_space(uid), value) for uid, value in values.items()}

    def _env_reset(self) -> tuple[Any, Any]:
        observations, info = self._env.reset()
        return self._per_agent(observations), info

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, Any]:
        """Step with per-agent flattened actions; per-agent outputs ``(num_envs, size)`` / ``(num_envs, 1)``."""
        device = getattr(self._unwrapped, "device", None)
        actions = {uid: unflatten_tensorized_space(self.action_space(uid), self._env_array(a, "torch", device))
                   for uid, a in actions.items()}
        observations, rewards, terminated, truncated, info = self._env.step(actions)
        self._observations, self._info = self._per_agent(observations), info
        columns = [{uid: self._adopt(x).reshape(-1, 1) for uid, x in values.items()}
                   for values in (rewards, terminated, truncated)]
        return (self._observations, *columns, info)

    def state(self) -> Any:
        """The env's state flattened with the (shared) state space, or None if the env has none."""
        try:
            state = self._env.state()
        except AttributeError:
            state = self._unwrapped.state()
        if state is None:
            return None
        return self._flatten(next(iter(self.state_spaces.values())), state)

    def close(self) -> None:
        """Close the env."""
        self._env.close()


class _IsaacGymWrapperBase(_CachedResetMixin, WrapperBase):
    """Isaac Gym ``VecTask`` envs: 4-value ``step``; truncation from ``extras["time_outs"]``.

    ``terminated`` excludes the time-outs (skrl 1.4.3 reported them as both terminated and truncated).
    """

    #: key of the observations in the env's observation dict (None: the env returns the tensor itself)
    _observation_key: Optional[str] = "obs"
    #: whether the env's spaces are OpenAI gym spaces to convert
    _convert_spaces: bool = True

    def _space(self, name: str) -> Any:
        space = getattr(self._unwrapped, name)
        return convert_gym_space(space) if self._convert_spaces else space

    @property
    def observation_space(self) -> Any:
        """The env's observation space (as a gymnasium space)."""
        return self._space("observation_space")

    @property
    def action_space(self) -> Any:
        """The env's action space (as a gymnasium space)."""
        return self._space("action_space")

    @property
    def state_space(self) -> Any:
        """The env's state space when it has states (``num_states > 0``), else None."""
        return self._space("state_space") if getattr(self._unwrapped, "num_states", 0) else None

    def _policy_observations(self, observations: Any) -> Any:
        if self._observation_key is not None:
            observations = observations[self._observation_key]
        return self._flatten(self.observation_space, observations)

    def _env_reset(self) -> tuple[Any, Any]:
        return self._policy_observations(self._env.reset()), {}

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step with flattened actions; ``terminated``/``truncated`` are bool ``(num_envs, 1)`` arrays."""
        actions = self._env_array(actions, "torch", getattr(self._unwrapped, "device", None))
        observations, rewards, resets, extras = self._env.step(unflatten_tensorized_space(self.action_space, actions))
        self._observations, self._info = self._policy_observations(observations), extras
        time_outs = extras.get("time_outs") if isinstance(extras, Mapping) else None
        truncated = resets.bool() & False if time_outs is None else time_outs.bool()
        terminated = resets.bool() & ~truncated
        columns = [self._adopt(x).reshape(-1, 1) for x in (rewards, terminated, truncated)]
        return (self._observations, *columns, extras)

    def close(self) -> None:
        """Isaac Gym envs are closed with the simulation; nothing to do."""


class IsaacGymPreview2WrapperBase(_IsaacGymWrapperBase):
    """Isaac Gym preview 2 (``rlgpu``): the env returns the observation tensor itself."""

    _observation_key = None


class IsaacGymPreview3WrapperBase(_IsaacGymWrapperBase):
    """Isaac Gym preview 3 and 4 (``isaacgymenvs``): observations ``obs["obs"]``."""


class OmniverseIsaacGymWrapperBase(_IsaacGymWrapperBase):
    """Omniverse Isaac Gym: like preview 3, with gymnasium spaces, ``close()`` and ``run(trainer)``."""

    _convert_spaces = False

    def close(self) -> None:
        """Close the env."""
        self._env.close()

    def run(self, trainer: Any = None) -> None:
        """Run the simulation loop of the env (multi-threaded Omniverse envs), driving ``trainer``."""
        self._env.run(trainer)
