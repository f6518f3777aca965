"""Advantage Actor-Critic (JAX)."""

from skrl.common.a2c import A2C_DEFAULT_CONFIG
from skrl.jax.a2c import A2C
from skrl.jax.rnn import A2C_RNN

__all__ = [
    "A2C",
    "A2C_DEFAULT_CONFIG",
    "A2C_RNN",
]
