"""SAC, backend-free: its default config (one object for torch and JAX), config checks and the target entropy."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Optional

import gymnasium
import numpy as np

from skrl.common.off_policy import (
    ACTOR_CRITIC_LEARNING_RATES,
    ActorCriticConfig,
    OffPolicySchedule,
    check_number,
    check_positive,
    off_policy_default_config,
)

SAC_DEFAULT_CONFIG = off_policy_default_config(ACTOR_CRITIC_LEARNING_RATES, {
    "grad_norm_clip": 0,  # clipping coefficient for the gradient norm (0 disables)
    "learn_entropy": True,  # learn the entropy coefficient
    "entropy_learning_rate": 1e-3,  # entropy coefficient learning rate
    "initial_entropy_value": 0.2,  # initial entropy coefficient (alpha)
    "target_entropy": None,  # target entropy (None: -prod(action shape) for Box, -n for Discrete, else 0)
})


@dataclasses.dataclass(frozen=True)
class SACConfig(ActorCriticConfig):
    """Validated SAC hyperparameters (see ``SAC_DEFAULT_CONFIG``)."""

    learn_entropy: bool
    entropy_learning_rate: float
    initial_entropy_value: float
    target_entropy: Optional[float]

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("entropy_learning_rate", self.entropy_learning_rate)
        check_number("initial_entropy_value", self.initial_entropy_value)
        if self.target_entropy is not None:
            check_number("target_entropy", self.target_entropy, -math.inf)


def default_target_entropy(action_space: Any) -> float:
    """``-prod(shape)`` for a Box action space, ``-n`` for Discrete, else 0 (skrl 1.4.3's rule)."""
    if isinstance(action_space, gymnasium.spaces.Box):
        return -float(np.prod(action_space.shape))
    if isinstance(action_space, gymnasium.spaces.Discrete):
        return -float(action_space.n)
    return 0.0


def log_entropy_coefficient(initial_entropy_value: float) -> float:
    """``log(alpha)``; an initial value of 0 gives ``-inf`` (alpha stays 0), as skrl 1.4.3 accepted."""
    return math.log(initial_entropy_value) if initial_entropy_value > 0 else -math.inf


class SACSchedule(OffPolicySchedule):
    """Soft Actor-Critic: stochastic policy, two critics and targets, optionally learned entropy coefficient."""

    default_config = SAC_DEFAULT_CONFIG
    config_class = SACConfig
    model_roles = ("policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2")
    target_roles = {"target_critic_1": "critic_1", "target_critic_2": "critic_2"}
    learning_rate_tags = {"policy": "Learning / Policy learning rate", "critic": "Learning / Critic learning rate"}
    critic_roles = ("critic_1", "critic_2")
    target_critic_roles = ("target_critic_1", "target_critic_2")

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        target = self._off.target_entropy
        self._target_entropy = default_target_entropy(self.action_space) if target is None else float(target)

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple:
        """Actions sampled from the stochastic policy: ``(actions, None, outputs)`` (``outputs["mean_actions"]``
        for deterministic evaluation)."""
        if timestep < self._off.random_timesteps:
            return self._random_actions(states)
        return self._stochastic_act(states)

    def _policy_outputs(self, states: Any) -> dict:
        """The outputs of one policy call (the RNN variants' states during ``random_timesteps``)."""
        return self._stochastic_act(states)[2]

    # ---- hooks (backend) ----------------------------------------------------------------------------------------

    def _stochastic_act(self, states: Any) -> tuple:
        raise NotImplementedError
