"""RPO, backend-free: PPO whose policy and value calls also get ``alpha``, the half-width of the uniform
perturbation that an RPO policy model adds to its mean actions (the agent itself perturbs nothing)."""

from __future__ import annotations

import dataclasses
from typing import Any

from skrl.common.ppo import PPO_DEFAULT_CONFIG, PPOConfig, PPOSchedule, _non_negative

RPO_DEFAULT_CONFIG: dict[str, Any] = {
    **{key: value for key, value in PPO_DEFAULT_CONFIG.items() if key != "experiment"},
    "alpha": 0.5,  # amount of uniform random perturbation added to the policy's mean actions (0 gives PPO)
    "experiment": PPO_DEFAULT_CONFIG["experiment"],
}


@dataclasses.dataclass(frozen=True)
class RPOConfig(PPOConfig):
    """Validated RPO hyperparameters: PPO's and ``alpha`` (>= 0)."""

    alpha: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        _non_negative("alpha", self.alpha)


class RPOSchedule(PPOSchedule):
    """PPO's schedule with RPO's config; every model call gets ``{"states": ..., "alpha": alpha}``."""

    default_config = RPO_DEFAULT_CONFIG
    config_class = RPOConfig

    def _model_inputs(self, states: Any) -> dict:
        return {"states": states, "alpha": self._ppo.alpha}
