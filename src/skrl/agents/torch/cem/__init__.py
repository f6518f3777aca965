"""Cross-Entropy Method (torch)."""

from skrl.common.cem import CEM_DEFAULT_CONFIG
from skrl.torch.cem import CEM

__all__ = [
    "CEM",
    "CEM_DEFAULT_CONFIG",
]
