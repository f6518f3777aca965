"""Tabular Q-learning (torch)."""

from skrl.common.tabular import Q_LEARNING_DEFAULT_CONFIG
from skrl.torch.tabular import Q_LEARNING

__all__ = [
    "Q_LEARNING",
    "Q_LEARNING_DEFAULT_CONFIG",
]
