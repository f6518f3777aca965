"""JAX trainers: ``Trainer`` (base), ``SequentialTrainer``, ``StepTrainer``, ``JittedTrainer`` and ``generate_equally_spaced_scopes``."""

from skrl.trainers.jax.base import Trainer, generate_equally_spaced_scopes
from skrl.trainers.jax.jitted import JittedTrainer
from skrl.trainers.jax.sequential import SequentialTrainer
from skrl.trainers.jax.step import StepTrainer

__all__ = ["Trainer", "SequentialTrainer", "StepTrainer", "JittedTrainer", "generate_equally_spaced_scopes"]
