"""Twin Delayed DDPG (JAX)."""

from skrl.common.ddpg import TD3_DEFAULT_CONFIG
from skrl.jax.ddpg import TD3

__all__ = [
    "TD3",
    "TD3_DEFAULT_CONFIG",
]
