"""JAX/Flax models: ``Model`` plus the mixins that turn its ``__call__`` output into actions."""

from skrl.jax.mixins import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    MultiCategoricalMixin,
    TabularMixin,
)
from skrl.jax.models import Model, StateDict

__all__ = [
    "CategoricalMixin",
    "DeterministicMixin",
    "GaussianMixin",
    "Model",
    "MultiCategoricalMixin",
    "StateDict",
    "TabularMixin",
]
