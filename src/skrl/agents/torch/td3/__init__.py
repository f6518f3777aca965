"""Twin Delayed DDPG (torch)."""

from skrl.common.ddpg import TD3_DEFAULT_CONFIG
from skrl.torch.ddpg import TD3
from skrl.torch.rnn_off_policy import TD3_RNN

__all__ = [
    "TD3",
    "TD3_DEFAULT_CONFIG",
    "TD3_RNN",
]
