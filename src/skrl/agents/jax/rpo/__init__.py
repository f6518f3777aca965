"""Robust Policy Optimization (JAX)."""

from skrl.common.rpo import RPO_DEFAULT_CONFIG
from skrl.jax.rnn import RPO_RNN
from skrl.jax.rpo import RPO

__all__ = [
    "RPO",
    "RPO_DEFAULT_CONFIG",
    "RPO_RNN",
]
