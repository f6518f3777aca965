"""Robust Policy Optimization (torch)."""

from skrl.common.rpo import RPO_DEFAULT_CONFIG
from skrl.torch.rnn import RPO_RNN
from skrl.torch.rpo import RPO

__all__ = [
    "RPO",
    "RPO_DEFAULT_CONFIG",
    "RPO_RNN",
]
