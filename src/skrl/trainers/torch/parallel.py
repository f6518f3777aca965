"""Torch ``ParallelTrainer`` and its default config."""

from skrl.common.trainer_core import PARALLEL_TRAINER_DEFAULT_CONFIG, ParallelTrainerCore
from skrl.trainers.torch.base import Trainer

__all__ = ["PARALLEL_TRAINER_DEFAULT_CONFIG", "ParallelTrainer"]


class ParallelTrainer(ParallelTrainerCore, Trainer):
    """Train or evaluate several agents on scopes of the environments concurrently (one thread per agent)."""
