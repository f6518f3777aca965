"""JAX optimizers: ``Adam(model, ...)`` returns an immutable ``Optimizer``."""

from skrl.resources.optimizers.jax.adam import (
    Adam,
    Optimizer,
)

__all__ = [
    "Adam",
    "Optimizer",
]
