"""Trust Region Policy Optimization (torch)."""

from skrl.common.trpo import TRPO_DEFAULT_CONFIG
from skrl.torch.rnn import TRPO_RNN
from skrl.torch.trpo import TRPO

__all__ = [
    "TRPO",
    "TRPO_DEFAULT_CONFIG",
    "TRPO_RNN",
]
