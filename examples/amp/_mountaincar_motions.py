"""Reference motions for AMP on MountainCarContinuous-v0 (a helper of the AMP examples and of
``benchmarks/learning_amp.py``, not an example itself).

AMP needs an environment that reports its motion as ``infos["amp_obs"]`` and reference motions in the same
features. Here both come from MountainCar's own dynamics (``dv = 0.0015 force - 0.0025 cos(3 x)``): a transition
is seen as position, velocity and the force the motion implies, and the reference motions are transitions of a
scripted expert that pushes with full force along the velocity (it reaches the flag in ~106 steps, ~89 return).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

TASK = "MountainCarContinuous-v0"
AMP_SIZE = 3


def expert_force(observations: np.ndarray) -> np.ndarray:
    """Full force along the car's velocity (right when at rest): it pumps energy into the swing."""
    return np.where(observations[..., 1:2] >= 0, 1.0, -1.0).astype(np.float32)


def amp_features(observations: np.ndarray, next_observations: np.ndarray) -> np.ndarray:
    """``(..., AMP_SIZE)``: position, velocity and the force that moved the car to ``next_observations``."""
    position, velocity = observations[..., :1], observations[..., 1:2]
    force = (next_observations[..., 1:2] - velocity + 0.0025 * np.cos(3 * position)) / 0.0015
    return np.concatenate([position, velocity, force], axis=-1).astype(np.float32)


def expert_transitions(seed: int, episodes: int = 64) -> np.ndarray:
    """``(steps, AMP_SIZE)`` features of the expert's transitions over ``episodes`` episodes from random starts."""
    import gymnasium

    env = gymnasium.make(TASK)
    rows = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        done = False
        while not done:
            next_observation, _, terminated, truncated, _ = env.step(expert_force(observation))
            rows.append(amp_features(observation, next_observation))
            observation, done = next_observation, terminated or truncated
    return np.asarray(rows, np.float32)


def _as_backend(backend: str, array: np.ndarray, device: Any) -> Any:
    if backend == "torch":
        import torch

        return torch.as_tensor(array, device=device)
    import jax.numpy as jnp

    return jnp.asarray(array)


def reference_motions(backend: str, device: Any, seed: int) -> Callable[[int], Any]:
    """The agent's ``collect_reference_motions``: ``n`` expert transitions drawn at random, as the backend's array."""
    motions = expert_transitions(seed)
    rng = np.random.default_rng(seed)
    return lambda n: _as_backend(backend, motions[rng.integers(0, len(motions), n)], device)


class AMPTransitions:
    """A wrapped (skrl) MountainCar env whose infos also carry ``amp_obs``: each env's last transition in the
    features of ``amp_features``, as the backend's array (what an Isaac-style AMP environment provides)."""

    def __init__(self, env: Any, backend: str) -> None:
        self._env, self._backend = env, backend
        self._previous = np.zeros((env.num_envs, 2), np.float32)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def _numpy(self, x: Any) -> np.ndarray:
        host = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        return host.reshape(self._env.num_envs, -1).astype(np.float32)

    def reset(self) -> tuple:
        states, infos = self._env.reset()
        self._previous = self._numpy(states)
        return states, infos

    def step(self, actions: Any) -> tuple:
        states, rewards, terminated, truncated, infos = self._env.step(actions)
        current = self._numpy(states)
        amp = _as_backend(self._backend, amp_features(self._previous, current), self._env.device)
        self._previous = current
        return states, rewards, terminated, truncated, {**infos, "amp_obs": amp}
