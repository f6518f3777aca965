"""Torch models: ``Model`` plus the mixins that turn its ``compute`` output into actions."""

from skrl.torch.mixins import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
    TabularMixin,
)
from skrl.torch.models import Model

__all__ = [
    "CategoricalMixin",
    "DeterministicMixin",
    "GaussianMixin",
    "Model",
    "MultiCategoricalMixin",
    "MultivariateGaussianMixin",
    "TabularMixin",
]
