"""JAX ``JittedTrainer`` (rollouts and updates compiled together, for JAX-native environments) and its default config."""

from skrl.jax.jitted_trainer import JITTED_TRAINER_DEFAULT_CONFIG, JittedTrainerCore
from skrl.trainers.jax.base import Trainer

__all__ = ["JITTED_TRAINER_DEFAULT_CONFIG", "JittedTrainer"]


class JittedTrainer(JittedTrainerCore, Trainer):
    """Train or evaluate one JAX PPO agent on a JAX-native environment (e.g. ``GymnaxWrapper``) in compiled chunks."""
