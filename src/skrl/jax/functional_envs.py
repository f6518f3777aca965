"""Drivers of functional JAX environments (Brax, gymnax): jitted reset/step keeping the env state and PRNG key.

Whatever the agents' backend, these envs run on JAX. Each driver step is one jitted call, which resets the
finished envs and splits ``terminated`` (the env ended the episode) from ``truncated`` (a time limit).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp


def _gymnax_reset(env: Any, num_envs: int, key: jax.Array, params: Any) -> tuple:
    key, subkey = jax.random.split(key)
    observations, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(subkey, num_envs), params)
    return key, observations, states


def _gymnax_step_one(env: Any, key: jax.Array, state: Any, action: Any, params: Any) -> tuple:
    """One step of ``env.step`` (which resets a finished episode) with bool ``terminated`` and ``truncated``.

    gymnax >= 1.0 returns both flags; older versions return one ``done`` flag (time limits included), taken as
    ``terminated``.
    """
    outputs = env.step(key, state, action, params)
    if len(outputs) == 6:
        observation, state, reward, terminated, truncated, _ = outputs
    else:
        observation, state, reward, terminated, _ = outputs
        truncated = jnp.zeros_like(terminated)
    terminated, truncated = jnp.asarray(terminated, bool), jnp.asarray(truncated, bool)
    return observation, state, jnp.asarray(reward, jnp.float32), terminated & ~truncated, truncated


def _gymnax_step(env: Any, key: jax.Array, states: Any, actions: jax.Array, params: Any) -> tuple:
    key, subkey = jax.random.split(key)
    keys = jax.random.split(subkey, actions.shape[0])
    outputs = jax.vmap(functools.partial(_gymnax_step_one, env), in_axes=(0, 0, 0, None))(keys, states, actions, params)
    return (key, *outputs)


class GymnaxDriver:
    """``num_envs`` vmapped copies of a gymnax env with ``params``, seeded with ``seed``."""

    def __init__(self, env: Any, params: Any, num_envs: int, seed: int) -> None:
        self.num_envs = num_envs
        self._params = params
        self._key = jax.random.PRNGKey(seed)
        self._states: Any = None
        self._reset = jax.jit(functools.partial(_gymnax_reset, env, num_envs))
        self._step = jax.jit(functools.partial(_gymnax_step, env))

    def reset(self) -> jax.Array:
        """Reset every copy; the observations ``(num_envs, *shape)``."""
        self._key, observations, self._states = self._reset(self._key, self._params)
        return observations

    def step(self, actions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """``(observations, rewards, terminated, truncated)`` after ``actions`` (one per copy)."""
        if self._states is None:
            self.reset()
        self._key, observations, self._states, rewards, terminated, truncated = self._step(
            self._key, self._states, actions, self._params)
        return observations, rewards, terminated, truncated


def _brax_step(env: Any, state: Any, actions: jax.Array) -> tuple:
    state = env.step(state, actions)
    done = jnp.asarray(state.done).astype(bool)
    truncation = state.info.get("truncation") if isinstance(state.info, dict) else None
    truncated = jnp.zeros_like(done) if truncation is None else jnp.asarray(truncation).astype(bool)
    return state, state.obs, jnp.asarray(state.reward, jnp.float32), done & ~truncated, truncated


class BraxDriver:
    """A Brax env (batched by ``VmapWrapper`` or not), seeded with ``seed``."""

    def __init__(self, env: Any, seed: int) -> None:
        self._key = jax.random.PRNGKey(seed)
        self._state: Any = None
        self._reset = jax.jit(env.reset)
        self._step = jax.jit(functools.partial(_brax_step, env))
        observation_shape = jax.eval_shape(env.reset, self._key).obs.shape
        batched = len(observation_shape) > 1
        self.num_envs = int(observation_shape[0]) if batched else 1
        self.action_shape = (self.num_envs, int(env.action_size)) if batched else (int(env.action_size),)

    def reset(self) -> jax.Array:
        """Reset with a new key; the observations."""
        self._key, key = jax.random.split(self._key)
        self._state = self._reset(key)
        return self._state.obs

    def step(self, actions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """``(observations, rewards, terminated, truncated)`` after ``actions``."""
        if self._state is None:
            self.reset()
        self._state, observations, rewards, terminated, truncated = self._step(self._state, actions)
        return observations, rewards, terminated, truncated
