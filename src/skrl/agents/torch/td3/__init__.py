"""Twin Delayed DDPG (torch)."""

from skrl.common.ddpg import TD3_DEFAULT_CONFIG
from skrl.torch.ddpg import TD3

__all__ = [
    "TD3",
    "TD3_DEFAULT_CONFIG",
]
