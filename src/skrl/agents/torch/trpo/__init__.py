"""Trust Region Policy Optimization (torch)."""

from skrl.common.trpo import TRPO_DEFAULT_CONFIG
from skrl.torch.trpo import TRPO

__all__ = [
    "TRPO",
    "TRPO_DEFAULT_CONFIG",
]
