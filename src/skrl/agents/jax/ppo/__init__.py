"""Proximal Policy Optimization (JAX)."""

from skrl.common.ppo import PPO_DEFAULT_CONFIG
from skrl.jax.ppo import PPO
from skrl.jax.rnn import PPO_RNN

__all__ = [
    "PPO",
    "PPO_DEFAULT_CONFIG",
    "PPO_RNN",
]
