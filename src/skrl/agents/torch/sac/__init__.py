"""Soft Actor-Critic (torch)."""

from skrl.common.sac import SAC_DEFAULT_CONFIG
from skrl.torch.rnn_off_policy import SAC_RNN
from skrl.torch.sac import SAC

__all__ = [
    "SAC",
    "SAC_DEFAULT_CONFIG",
    "SAC_RNN",
]
