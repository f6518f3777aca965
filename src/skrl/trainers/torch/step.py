"""Torch ``StepTrainer`` and its default config."""

from skrl.common.trainer_core import STEP_TRAINER_DEFAULT_CONFIG, StepTrainerCore
from skrl.trainers.torch.base import Trainer

__all__ = ["STEP_TRAINER_DEFAULT_CONFIG", "StepTrainer"]


class StepTrainer(StepTrainerCore, Trainer):
    """Run one interaction step per ``train()``/``eval()`` call and return what the environment returned."""
