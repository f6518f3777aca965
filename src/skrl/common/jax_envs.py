"""Backend-free wrappers of functional JAX environments: Brax and gymnax.

The env is driven by ``skrl.jax.functional_envs`` (jitted reset/step that keep the env state and PRNG key);
actions reach it as JAX arrays and outputs are adopted by the agents' backend (torch through DLPack). Both
kinds reset finished sub-environments inside ``step`` and report time limits as truncations.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import gymnasium
import numpy as np

from skrl.common.env_wrappers import ConvertedSpacesMixin, WrapperBase, load_framework_module
from skrl.common.gymnasium_envs import batched_for_vector_env
from skrl.common.spaces import unflatten_tensorized_space

__all__ = ["BraxWrapperBase", "GymnaxWrapperBase", "convert_gymnax_space"]


def _seed(seed: Optional[int]) -> int:
    """``seed``, or one drawn from NumPy's global generator (which ``skrl.utils.set_seed`` seeds)."""
    if seed is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Invalid `seed`: expected an int or None. Received: seed={seed!r}")
    return int(seed)


def convert_gymnax_space(space: Any) -> gymnasium.Space:
    """A gymnax space (``Discrete``, ``Box``, ``Tuple``, ``Dict``, matched by class name) as a gymnasium space.

    Raises:
        ValueError: the space is of another type.
    """
    name = type(space).__name__
    if name == "Discrete":
        return gymnasium.spaces.Discrete(int(space.n))
    if name == "Box":
        dtype = np.dtype(space.dtype)
        shape = tuple(space.shape)
        low = np.broadcast_to(np.asarray(space.low, dtype=dtype), shape)
        high = np.broadcast_to(np.asarray(space.high, dtype=dtype), shape)
        return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if name == "Tuple":
        return gymnasium.spaces.Tuple([convert_gymnax_space(s) for s in space.spaces])
    if name == "Dict":
        return gymnasium.spaces.Dict({k: convert_gymnax_space(s) for k, s in space.spaces.items()})
    raise ValueError(f"Unsupported gymnax space {name}: expected Discrete, Box, Tuple or Dict. Received: {space!r}")


class _FunctionalEnvWrapperBase(ConvertedSpacesMixin, WrapperBase):
    """What the Brax and gymnax wrappers share: a JAX driver, fixed spaces and flattened outputs."""

    _driver: Any

    @property
    def num_envs(self) -> int:
        """Number of environments the driver runs (vmapped)."""
        return self._driver.num_envs

    def _driver_actions(self, actions: Any) -> Any:
        return self._env_array(actions, "jax")

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step with flattened actions ``(num_envs, occupied_size)``; rewards float32 and bool flags ``(num_envs, 1)``."""
        observations, rewards, terminated, truncated = self._driver.step(self._driver_actions(actions))
        columns = [self._adopt(x).reshape(-1, 1) for x in (rewards, terminated, truncated)]
        return (self._flatten(self.observation_space, observations), *columns, {})

    def render(self, *args: Any, **kwargs: Any) -> None:
        """Functional JAX envs have no viewer here; nothing to return."""
        return None

    def close(self) -> None:
        """Nothing to release."""


class BraxWrapperBase(_FunctionalEnvWrapperBase):
    """Wrapper of a Brax env (``brax.envs.create(..., batch_size=n)`` for ``n`` envs; unbatched envs count as one).

    Observations are ``Box(-inf, inf, (observation_size,))`` and actions ``Box(-1, 1, (action_size,))``. Every
    ``reset()`` resets all envs with a new key (``seed`` gives the first; None draws it from NumPy's generator).
    """

    def __init__(self, env: Any, seed: Optional[int] = None) -> None:
        super().__init__(env)
        self._driver = load_framework_module("jax", "functional_envs").BraxDriver(env, _seed(seed))
        self._observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (int(env.observation_size),), np.float32)
        self._action_space = gymnasium.spaces.Box(-1.0, 1.0, (int(env.action_size),), np.float32)

    def _driver_actions(self, actions: Any) -> Any:
        return super()._driver_actions(actions).reshape(self._driver.action_shape)

    def reset(self) -> tuple[Any, Any]:
        """Reset every env: ``(observations, {})``."""
        return self._flatten(self.observation_space, self._driver.reset()), {}


class GymnaxWrapperBase(_FunctionalEnvWrapperBase):
    """Wrapper of a gymnax env, run as ``num_envs`` vmapped copies with ``params`` (None: the env's defaults).

    The copies reset themselves when done, so ``reset()`` resets them at the first call only and afterwards
    returns the last step's observations. ``seed`` gives the PRNG key (None: drawn from NumPy's generator).
    """

    def __init__(self, env: Any, num_envs: int = 1, params: Any = None, seed: Optional[int] = None) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"Invalid `num_envs`: expected a positive int. Received: num_envs={num_envs!r}")
        super().__init__(env)
        params = env.default_params if params is None else params
        self._driver = load_framework_module("jax", "functional_envs").GymnaxDriver(env, params, int(num_envs), _seed(seed))
        self._observation_space = convert_gymnax_space(env.observation_space(params))
        self._action_space = convert_gymnax_space(env.action_space(params))
        self._observations: Any = None

    def _driver_actions(self, actions: Any) -> Any:
        unflattened = unflatten_tensorized_space(self.action_space, super()._driver_actions(actions))
        return batched_for_vector_env(self.action_space, unflattened)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step every copy (finished ones reset); the observations are kept for ``reset()``."""
        outputs = super().step(actions)
        self._observations = outputs[0]
        return outputs

    def reset(self) -> tuple[Any, Mapping]:
        """Reset every copy at the first call; then return the last step's observations."""
        if self._observations is None:
            self._observations = self._flatten(self.observation_space, self._driver.reset())
        return self._observations, {}
