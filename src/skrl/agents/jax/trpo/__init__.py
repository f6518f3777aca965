"""Trust Region Policy Optimization (JAX)."""

from skrl.common.trpo import TRPO_DEFAULT_CONFIG
from skrl.jax.trpo import TRPO

__all__ = [
    "TRPO",
    "TRPO_DEFAULT_CONFIG",
]
