"""Cross-Entropy Method (JAX)."""

from skrl.common.cem import CEM_DEFAULT_CONFIG
from skrl.jax.cem import CEM

__all__ = [
    "CEM",
    "CEM_DEFAULT_CONFIG",
]
