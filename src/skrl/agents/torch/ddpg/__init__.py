"""Deep Deterministic Policy Gradient (torch)."""

from skrl.common.ddpg import DDPG_DEFAULT_CONFIG
from skrl.torch.ddpg import DDPG
from skrl.torch.rnn_off_policy import DDPG_RNN

__all__ = [
    "DDPG",
    "DDPG_DEFAULT_CONFIG",
    "DDPG_RNN",
]
