"""Multi-Agent Proximal Policy Optimization (torch)."""

from skrl.common.mappo import MAPPO_DEFAULT_CONFIG
from skrl.torch.mappo import MAPPO

__all__ = [
    "MAPPO",
    "MAPPO_DEFAULT_CONFIG",
]
