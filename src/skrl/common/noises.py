"""Exploration noises, backend-free part: argument checks, ``sample_like`` and the Ornstein-Uhlenbeck recursion.

A backend class (``skrl.torch.noises`` / ``skrl.jax.noises``) draws the standard-normal samples; the
formulas here work on any array type with arithmetic operators (torch tensors, NumPy and JAX arrays).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence

from skrl.common.errors import InvalidConfigValueError


def check_noise_parameter(name: str, value: Any, minimum: float = -math.inf) -> float:
    """``value`` as a float, or ``InvalidConfigValueError`` naming ``name`` when it is not a finite number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        bound = "" if minimum == -math.inf else f" >= {minimum}"
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a finite number{bound}. Received: {name}={value!r}")
    return float(value)


def size_tuple(size: Any) -> tuple[int, ...]:
    """A sample shape from an int, a sequence of ints or a ``torch.Size``: ``3`` gives ``(3,)``."""
    shape = (size,) if isinstance(size, numbers.Integral) else size
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable) or \
            not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"Invalid `size`: expected an int or a sequence of ints. Received: size={size!r}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"Invalid `size`: dimensions must be >= 0. Received: size={size!r}")
    return shape


def ornstein_uhlenbeck_step(state: Any, normal: Any, theta: float, sigma: float) -> Any:
    """One step of the discretised Ornstein-Uhlenbeck process: ``state - theta * state + sigma * normal``."""
    return state - theta * state + sigma * normal


class NoiseCore:
    """Base of every noise: ``sample(size)`` draws an array of shape ``size``, ``sample_like(x)`` one shaped as ``x``."""

    def sample(self, size: Sequence[int]) -> Any:
        """An array of shape ``size`` (backends implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample(size)")

    def sample_like(self, tensor: Any) -> Any:
        """A sample with the shape of ``tensor``."""
        return self.sample(tensor.shape)


class GaussianNoiseCore(NoiseCore):
    """Independent normal samples ``N(mean, std)``."""

    def __init__(self, mean: float, std: float) -> None:
        self.mean = check_noise_parameter("mean", mean)
        self.std = check_noise_parameter("std", std, minimum=0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class OrnsteinUhlenbeckNoiseCore(NoiseCore):
    """Temporally correlated noise: ``state ← state - theta·state + sigma·N(mean, std)``, returning ``base_scale·state``.

    ``state`` starts at 0 and restarts at 0 whenever a sample of another shape is asked for. The same update
    is used on every backend (skrl 1.4.3's JAX array backend used ``theta·state`` instead).
    """

    def __init__(self, theta: float, sigma: float, base_scale: float, mean: float = 0, std: float = 1) -> None:
        self.theta = check_noise_parameter("theta", theta)
        self.sigma = check_noise_parameter("sigma", sigma)
        self.base_scale = check_noise_parameter("base_scale", base_scale)
        self.mean = check_noise_parameter("mean", mean)
        self.std = check_noise_parameter("std", std, minimum=0.0)
        self.state: Any = 0

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(theta={self.theta}, sigma={self.sigma}, base_scale={self.base_scale}, "
                f"mean={self.mean}, std={self.std})")

    def state_for(self, shape: tuple[int, ...]) -> Any:
        """The current state if it has ``shape``, else None (the caller starts from zeros)."""
        current = getattr(self.state, "shape", None)
        return self.state if current is not None and tuple(current) == tuple(shape) else None
