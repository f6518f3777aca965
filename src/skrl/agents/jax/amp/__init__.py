"""Adversarial Motion Priors (JAX)."""

from skrl.common.amp import AMP_DEFAULT_CONFIG
from skrl.jax.amp import AMP

__all__ = [
    "AMP",
    "AMP_DEFAULT_CONFIG",
]
