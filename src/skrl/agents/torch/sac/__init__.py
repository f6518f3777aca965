"""Soft Actor-Critic (torch)."""

from skrl.common.sac import SAC_DEFAULT_CONFIG
from skrl.torch.sac import SAC

__all__ = [
    "SAC",
    "SAC_DEFAULT_CONFIG",
]
