"""Deep Deterministic Policy Gradient (JAX)."""

from skrl.common.ddpg import DDPG_DEFAULT_CONFIG
from skrl.jax.ddpg import DDPG
from skrl.jax.rnn_off_policy import DDPG_RNN

__all__ = [
    "DDPG",
    "DDPG_DEFAULT_CONFIG",
    "DDPG_RNN",
]
