"""Torch trainers: ``Trainer`` (base), ``SequentialTrainer``, ``ParallelTrainer``, ``StepTrainer`` and
``generate_equally_spaced_scopes``."""

from skrl.trainers.torch.base import Trainer, generate_equally_spaced_scopes
from skrl.trainers.torch.parallel import ParallelTrainer
from skrl.trainers.torch.sequential import SequentialTrainer
from skrl.trainers.torch.step import StepTrainer

__all__ = ["Trainer", "SequentialTrainer", "ParallelTrainer", "StepTrainer", "generate_equally_spaced_scopes"]
