"""JAX trainers: ``Trainer`` (base), ``SequentialTrainer``, ``StepTrainer`` and ``generate_equally_spaced_scopes``."""

from skrl.trainers.jax.base import Trainer, generate_equally_spaced_scopes
from skrl.trainers.jax.sequential import SequentialTrainer
from skrl.trainers.jax.step import StepTrainer

__all__ = ["Trainer", "SequentialTrainer", "StepTrainer", "generate_equally_spaced_scopes"]
