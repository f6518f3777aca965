"""Utilities. Importing ``skrl.utils`` imports neither torch nor jax."""

from skrl.utils._seeding import set_seed

__all__ = [
    "set_seed",
]
