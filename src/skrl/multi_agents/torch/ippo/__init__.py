"""Independent Proximal Policy Optimization (torch)."""

from skrl.common.ippo import IPPO_DEFAULT_CONFIG
from skrl.torch.ippo import IPPO

__all__ = [
    "IPPO",
    "IPPO_DEFAULT_CONFIG",
]
