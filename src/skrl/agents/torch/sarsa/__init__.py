"""Tabular SARSA (torch)."""

from skrl.common.tabular import SARSA_DEFAULT_CONFIG
from skrl.torch.tabular import SARSA

__all__ = [
    "SARSA",
    "SARSA_DEFAULT_CONFIG",
]
