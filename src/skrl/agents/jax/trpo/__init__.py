"""Trust Region Policy Optimization (JAX)."""

from skrl.common.trpo import TRPO_DEFAULT_CONFIG
from skrl.jax.rnn import TRPO_RNN
from skrl.jax.trpo import TRPO

__all__ = [
    "TRPO",
    "TRPO_DEFAULT_CONFIG",
    "TRPO_RNN",
]
