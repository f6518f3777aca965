"""JAX ``SequentialTrainer`` and its default config."""

from skrl.common.trainer_core import SEQUENTIAL_TRAINER_DEFAULT_CONFIG, SequentialTrainerCore
from skrl.trainers.jax.base import Trainer

__all__ = ["SEQUENTIAL_TRAINER_DEFAULT_CONFIG", "SequentialTrainer"]


class SequentialTrainer(SequentialTrainerCore, Trainer):
    """Train or evaluate one agent, or several agents on scopes of the environments, one step at a time per loop."""
