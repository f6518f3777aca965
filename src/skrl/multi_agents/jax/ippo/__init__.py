"""Independent Proximal Policy Optimization (JAX)."""

from skrl.common.ippo import IPPO_DEFAULT_CONFIG
from skrl.jax.ippo import IPPO

__all__ = [
    "IPPO",
    "IPPO_DEFAULT_CONFIG",
]
