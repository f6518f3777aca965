"""Torch trainers: ``Trainer`` (base), ``SequentialTrainer``, ``StepTrainer`` and ``generate_equally_spaced_scopes``."""

from skrl.trainers.torch.base import Trainer, generate_equally_spaced_scopes
from skrl.trainers.torch.sequential import SequentialTrainer
from skrl.trainers.torch.step import StepTrainer

__all__ = ["Trainer", "SequentialTrainer", "StepTrainer", "generate_equally_spaced_scopes"]
