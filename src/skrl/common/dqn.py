"""DQN and DDQN, backend-free: default configs (one object per agent for torch and JAX), checks, epsilon-greedy.

Differences from skrl 1.4.3, on purpose: ``random_timesteps`` is honoured whatever the exploration settings (1.4.3
ignored it when ``exploration["timesteps"]`` was falsy, and JAX raised ``NotImplementedError``); the target network is
blended once per update when ``timestep % target_update_interval == 0`` (1.4.3 did it after every gradient step);
``act`` returns the greedy actions as ``outputs["mean_actions"]`` so that deterministic evaluation is greedy.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

import gymnasium

from skrl.common.off_policy import (
    EPSILON_TAG,
    EpsilonSchedule,
    OffPolicyConfig,
    OffPolicySchedule,
    UpdatePlan,
    check_int,
    check_positive,
    off_policy_default_config,
)

_DQN_KEYS: dict[str, Any] = {
    "update_interval": 1,  # timesteps between updates
    "target_update_interval": 10,  # timesteps between target network updates
    "exploration": {
        "initial_epsilon": 1.0,  # epsilon at timestep 0
        "final_epsilon": 0.05,  # epsilon reached asymptotically
        "timesteps": 1000,  # decay time constant (None or 0: always greedy)
    },
}

DQN_DEFAULT_CONFIG = off_policy_default_config({"learning_rate": 1e-3}, _DQN_KEYS)

DDQN_DEFAULT_CONFIG = off_policy_default_config({"learning_rate": 1e-3}, _DQN_KEYS)


@dataclasses.dataclass(frozen=True)
class DQNConfig(OffPolicyConfig):
    """Validated DQN/DDQN hyperparameters (see ``DQN_DEFAULT_CONFIG``)."""

    learning_rate: float
    update_interval: int
    target_update_interval: int
    exploration__initial_epsilon: float
    exploration__final_epsilon: float
    exploration__timesteps: Optional[int]

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("learning_rate", self.learning_rate)
        check_int("update_interval", self.update_interval, 1)
        check_int("target_update_interval", self.target_update_interval, 1)
        self.epsilon_schedule  # checks the exploration keys

    @property
    def epsilon_schedule(self) -> EpsilonSchedule:
        return EpsilonSchedule(self.exploration__initial_epsilon, self.exploration__final_epsilon,
                               self.exploration__timesteps)


class DQNSchedule(OffPolicySchedule):
    """Deep Q-Network: a Q-network over a Discrete action space, epsilon-greedy exploration, a blended target."""

    default_config = DQN_DEFAULT_CONFIG
    config_class = DQNConfig
    model_roles = ("q_network", "target_q_network")
    target_roles = {"target_q_network": "q_network"}
    learning_rate_tags = {"q_network": "Learning / Learning rate"}
    #: DDQN: the online network picks the next action, the target network values it
    double = False

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._epsilon_schedule = self._off.epsilon_schedule
        self.tensors_names = list(self._tensors_names)

    def _check_spaces(self) -> None:
        if isinstance(self.action_space, gymnasium.spaces.Space) and \
                not isinstance(self.action_space, gymnasium.spaces.Discrete):
            raise ValueError(f"Invalid `action_space` for {type(self).__name__}: expected a gymnasium Discrete space "
                             f"(one Q-value per action). Received: {self.action_space}")
        self._num_actions = int(getattr(self.action_space, "n", 0))

    def _actions_dtype(self) -> Any:
        return self._index_dtype

    def _should_update(self, timestep: int) -> bool:
        return timestep >= self._off.learning_starts and not timestep % self._off.update_interval

    def _plan_update(self, timestep: int) -> UpdatePlan:
        return self._new_plan(update_targets=not timestep % self._off.target_update_interval)

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple:
        """Epsilon-greedy actions ``(N, 1)``: ``(actions, None, {"q_values", "mean_actions": greedy actions})``."""
        if timestep < self._off.random_timesteps:
            epsilon = 1.0
        else:
            epsilon = self._epsilon_schedule.epsilon(timestep)
            if epsilon is not None:
                self.track_data(EPSILON_TAG, epsilon)
        return self._epsilon_greedy_act(states, 0.0 if epsilon is None else epsilon)

    # ---- hooks (backend) ----------------------------------------------------------------------------------------
    _index_dtype: Any = None

    def _epsilon_greedy_act(self, states: Any, epsilon: float) -> tuple:
        raise NotImplementedError


class DDQNSchedule(DQNSchedule):
    """Double DQN: DQN whose targets value the online network's greedy next action with the target network."""

    default_config = DDQN_DEFAULT_CONFIG
    double = True
