"""JAX noises: a pure ``transition(key, state, shape)`` for jitted agents, and ``sample(size)`` for everyone else.

``sample`` follows skrl 1.4.3: keys are ``fold_in(config.jax.key at construction, call counter)``, and the result
is a ``jax.Array`` with the "jax" array backend, a NumPy array with "numpy". Samples are float32 on both.
Agents call ``transition`` inside their own jitted step with a key of their stream, carrying ``state``.
"""

from __future__ import annotations

import functools
from typing import Any, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.noises import (
    GaussianNoiseCore,
    NoiseCore,
    OrnsteinUhlenbeckNoiseCore,
    ornstein_uhlenbeck_step,
    size_tuple,
)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _transition(noise: "Noise", key: jax.Array, state: Any, shape: tuple) -> tuple:
    return noise.transition(key, state, shape)


class Noise(NoiseCore):
    """Base class of JAX noises: the device, the array backend and the key stream of ``sample``."""

    def __init__(self, device: Optional[Union[str, jax.Device]] = None) -> None:
        self.device = config.jax.parse_device(device)
        self._jax = config.jax.backend == "jax"
        self._key = config.jax.key
        self._i = 0

    def initial_state(self, shape: tuple[int, ...]) -> Any:
        """The state ``transition`` starts from for samples of ``shape`` (None: the noise has no state)."""
        return None

    def transition(self, key: jax.Array, state: Any, shape: tuple[int, ...]) -> tuple[jax.Array, Any]:
        """Pure step: ``(sample of shape, new state)`` (traceable; agents call it inside ``jax.jit``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement transition(key, state, shape)")

    def commit_state(self, state: Any) -> None:
        """Keep ``state`` (from ``transition``) as the current state."""

    def sample(self, size: Union[int, Sequence[int]]) -> Union[np.ndarray, jax.Array]:
        """A float32 array of shape ``size``."""
        shape = size_tuple(size)
        self._i += 1
        with jax.default_device(self.device):
            sample, state = _transition(self, jax.random.fold_in(self._key, self._i), self.initial_state(shape), shape)
        self.commit_state(state)
        return sample if self._jax else np.asarray(sample)


class GaussianNoise(GaussianNoiseCore, Noise):
    """Normal noise ``N(mean, std)``."""

    def __init__(self, mean: float, std: float, device: Optional[Union[str, jax.Device]] = None) -> None:
        Noise.__init__(self, device)
        GaussianNoiseCore.__init__(self, mean, std)

    def transition(self, key: jax.Array, state: Any, shape: tuple[int, ...]) -> tuple[jax.Array, Any]:
        return self.mean + self.std * jax.random.normal(key, shape, dtype=jnp.float32), state


class OrnsteinUhlenbeckNoise(OrnsteinUhlenbeckNoiseCore, Noise):
    """Ornstein-Uhlenbeck noise (see ``OrnsteinUhlenbeckNoiseCore``); ``state`` is an array after the first sample."""

    def __init__(self, theta: float, sigma: float, base_scale: float, mean: float = 0, std: float = 1,
                 device: Optional[Union[str, jax.Device]] = None) -> None:
        Noise.__init__(self, device)
        OrnsteinUhlenbeckNoiseCore.__init__(self, theta, sigma, base_scale, mean, std)

    def initial_state(self, shape: tuple[int, ...]) -> Any:
        state = self.state_for(shape)
        return jnp.zeros(shape, dtype=jnp.float32) if state is None else state

    def transition(self, key: jax.Array, state: Any, shape: tuple[int, ...]) -> tuple[jax.Array, Any]:
        normal = self.mean + self.std * jax.random.normal(key, shape, dtype=jnp.float32)
        state = ornstein_uhlenbeck_step(state, normal, self.theta, self.sigma)
        return self.base_scale * state, state

    def commit_state(self, state: Any) -> None:
        self.state = state
