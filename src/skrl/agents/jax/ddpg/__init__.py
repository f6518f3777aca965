"""Deep Deterministic Policy Gradient (JAX)."""

from skrl.common.ddpg import DDPG_DEFAULT_CONFIG
from skrl.jax.ddpg import DDPG

__all__ = [
    "DDPG",
    "DDPG_DEFAULT_CONFIG",
]
