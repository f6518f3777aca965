"""Soft Actor-Critic (JAX)."""

from skrl.common.sac import SAC_DEFAULT_CONFIG
from skrl.jax.rnn_off_policy import SAC_RNN
from skrl.jax.sac import SAC

__all__ = [
    "SAC",
    "SAC_DEFAULT_CONFIG",
    "SAC_RNN",
]
