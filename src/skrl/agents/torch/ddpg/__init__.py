"""Deep Deterministic Policy Gradient (torch)."""

from skrl.common.ddpg import DDPG_DEFAULT_CONFIG
from skrl.torch.ddpg import DDPG

__all__ = [
    "DDPG",
    "DDPG_DEFAULT_CONFIG",
]
