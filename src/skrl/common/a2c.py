"""A2C, backend-free: its default config, config checks and schedule, as a variant of PPO's.

A2C runs one pass over contiguous, unshuffled mini-batches of the rollout per update (no epochs, no KL early
stop), with the plain policy-gradient loss ``-mean(advantages * log_prob)`` and the unscaled, unclipped value
loss. The backends supply the policy loss (``_policy_loss`` / ``A2CFunctions.surrogate_loss``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from skrl.common.ppo import PPO_DEFAULT_CONFIG, PPOSchedule, _non_negative, _positive_int

A2C_KEYS = ("rollouts", "mini_batches", "discount_factor", "lambda", "learning_rate", "learning_rate_scheduler",
            "learning_rate_scheduler_kwargs", "state_preprocessor", "state_preprocessor_kwargs", "value_preprocessor",
            "value_preprocessor_kwargs", "random_timesteps", "learning_starts", "grad_norm_clip", "entropy_loss_scale",
            "rewards_shaper", "time_limit_bootstrap", "mixed_precision", "experiment")

#: PPO's keys (meanings and defaults in ``PPO_DEFAULT_CONFIG``) that A2C has, with one mini-batch by default
A2C_DEFAULT_CONFIG: dict[str, Any] = {**{key: PPO_DEFAULT_CONFIG[key] for key in A2C_KEYS}, "mini_batches": 1}


@dataclasses.dataclass(frozen=True)
class A2CConfig:
    """Validated A2C hyperparameters (see ``A2C_DEFAULT_CONFIG``); the PPO settings A2C does without are fixed."""

    rollouts: int
    mini_batches: int
    discount_factor: float
    lambda_: float
    learning_rate: float
    random_timesteps: int
    learning_starts: int
    grad_norm_clip: float
    entropy_loss_scale: float
    time_limit_bootstrap: bool
    mixed_precision: bool
    learning_epochs = 1
    kl_threshold = 0.0
    ratio_clip = 0.0
    value_clip = 0.0
    clip_predicted_values = False
    value_loss_scale = 1.0

    def __post_init__(self) -> None:
        for name in ("rollouts", "mini_batches"):
            _positive_int(name, getattr(self, name))
        for name in ("discount_factor", "lambda_", "learning_rate", "random_timesteps", "learning_starts",
                     "grad_norm_clip", "entropy_loss_scale"):
            _non_negative(name.rstrip("_"), getattr(self, name))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "A2CConfig":
        return cls(**{f.name: cfg[f.name.rstrip("_")] for f in dataclasses.fields(cls)})


class A2CSchedule(PPOSchedule):
    """PPO's schedule with A2C's config: one pass (one "epoch") over contiguous mini-batches per update."""

    default_config = A2C_DEFAULT_CONFIG
    config_class = A2CConfig

    def _ppo_minibatches(self) -> list:
        """Contiguous, unshuffled slices of the rollout (the same every update, as in skrl)."""
        return self.memory.sample_all(self._tensors_names, mini_batches=max(1, min(self._mini_batches, len(self.memory))))
