"""Tabular SARSA (JAX)."""

from skrl.common.tabular import SARSA_DEFAULT_CONFIG
from skrl.jax.tabular import SARSA

__all__ = [
    "SARSA",
    "SARSA_DEFAULT_CONFIG",
]
