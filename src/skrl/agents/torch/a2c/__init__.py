"""Advantage Actor-Critic (torch)."""

from skrl.common.a2c import A2C_DEFAULT_CONFIG
from skrl.torch.a2c import A2C
from skrl.torch.rnn import A2C_RNN

__all__ = [
    "A2C",
    "A2C_DEFAULT_CONFIG",
    "A2C_RNN",
]
