"""Adversarial Motion Priors (torch)."""

from skrl.common.amp import AMP_DEFAULT_CONFIG
from skrl.torch.amp import AMP

__all__ = [
    "AMP",
    "AMP_DEFAULT_CONFIG",
]
