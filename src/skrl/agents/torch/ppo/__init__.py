"""Proximal Policy Optimization (torch)."""

from skrl.common.ppo import PPO_DEFAULT_CONFIG
from skrl.torch.ppo import PPO
from skrl.torch.rnn import PPO_RNN

__all__ = [
    "PPO",
    "PPO_DEFAULT_CONFIG",
    "PPO_RNN",
]
