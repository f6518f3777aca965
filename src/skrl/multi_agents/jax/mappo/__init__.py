"""Multi-Agent Proximal Policy Optimization (JAX)."""

from skrl.common.mappo import MAPPO_DEFAULT_CONFIG
from skrl.jax.mappo import MAPPO

__all__ = [
    "MAPPO",
    "MAPPO_DEFAULT_CONFIG",
]
