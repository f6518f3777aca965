"""JAX preprocessors, with the pure functions ``standardize`` and ``update`` for jitted code."""

from skrl.resources.preprocessors.jax.running_standard_scaler import (
    RunningStandardScaler,
    standardize,
    update,
)

__all__ = [
    "RunningStandardScaler",
    "standardize",
    "update",
]
