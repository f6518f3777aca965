"""Soft Actor-Critic (JAX)."""

from skrl.common.sac import SAC_DEFAULT_CONFIG
from skrl.jax.sac import SAC

__all__ = [
    "SAC",
    "SAC_DEFAULT_CONFIG",
]
