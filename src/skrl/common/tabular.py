"""Tabular Q-learning and SARSA, backend-free: default configs, config checks, the TD update and the schedule.

The policy is a ``TabularMixin`` model holding ``q_table`` ``(num_envs, num_states, num_actions)`` (or one table
``(1, ...)`` shared by every environment) and doing its own exploration (e.g. epsilon-greedy) in ``compute``.
After every step (from ``learning_starts``) the agent moves ``Q[env, s, a]`` towards the one-step target
``r + discount_factor * (1 - done) * Q[env, s', a']``, where ``a'`` is the greedy action (Q-learning) or the
action the policy takes in ``s'`` (SARSA). The backend classes supply acting and the table update.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from skrl.common.config_checks import check_non_negative, config_fields
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG
from skrl.common.transitions import store_transition


def _tabular_defaults() -> dict[str, Any]:
    return {
        "discount_factor": 0.99,  # discount factor (gamma)
        "random_timesteps": 0,  # random exploration steps
        "learning_starts": 0,  # steps before learning starts
        "learning_rate": 0.5,  # learning rate (alpha) of the table update
        "rewards_shaper": None,  # rewards shaping function: f(rewards, timestep, timesteps) -> rewards
        "experiment": EXPERIMENT_DEFAULT_CONFIG,
    }


Q_LEARNING_DEFAULT_CONFIG: dict[str, Any] = _tabular_defaults()
SARSA_DEFAULT_CONFIG: dict[str, Any] = _tabular_defaults()


@dataclasses.dataclass(frozen=True)
class TabularConfig:
    """Validated Q-learning / SARSA hyperparameters (see ``Q_LEARNING_DEFAULT_CONFIG`` for each field's meaning)."""

    discount_factor: float
    random_timesteps: int
    learning_starts: int
    learning_rate: float

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check_non_negative(field.name, getattr(self, field.name))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "TabularConfig":
        return cls(**config_fields(cls, cfg))


def td_delta(table: Any, envs: Any, states: Any, actions: Any, rewards: Any, next_states: Any, next_actions: Any,
             not_dones: Any, learning_rate: float, discount_factor: float) -> Any:
    """``learning_rate * (r + discount_factor * not_done * Q[env, s', a'] - Q[env, s, a])`` for a batch of 1-D
    index arrays (works on NumPy, torch and JAX arrays: only indexing and arithmetic are used)."""
    target = rewards + discount_factor * not_dones * table[envs, next_states, next_actions]
    return learning_rate * (target - table[envs, states, actions])


def table_rows(table_envs: int, num_envs: int) -> str:
    """How the environments of a batch map to the table's first axis: ``"own"`` (one row each) or ``"shared"``.

    With a shared table, environments that visit the same ``(s, a)`` in one step move it by their mean TD update
    (applying the sum would multiply the learning rate by the number of such environments).
    """
    if table_envs == num_envs:
        return "own"
    if table_envs == 1:
        return "shared"
    raise ValueError(f"The Q-table has {table_envs} environment rows but the batch has {num_envs} environments: "
                     "expected one row per environment or a single shared row")


class TabularSchedule:
    """Mixin with the backend-free control flow of Q-learning and SARSA; the backend provides ``_tabular_*`` hooks."""

    #: SARSA bootstraps from the action the policy takes in the next state; Q-learning from the greedy one
    on_policy_target: bool = False

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._tabular = TabularConfig.from_dict(self.cfg)
        self._rewards_shaper = self.cfg["rewards_shaper"]
        self.policy = self.models.get("policy")
        self.checkpoint_modules["policy"] = self.policy
        self._transition: Optional[tuple] = None
        self._tabular_setup()

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """Resolve the data-layer intervals and create the memory tensors (when a memory is given)."""
        super().init(trainer_cfg=trainer_cfg)
        if self.memory is None:
            return
        for name, size, dtype in (("states", self.observation_space, self._int_dtype),
                                  ("next_states", self.observation_space, self._int_dtype),
                                  ("actions", self.action_space, self._int_dtype), ("rewards", 1, self._float_dtype),
                                  ("terminated", 1, self._bool_dtype), ("truncated", 1, self._bool_dtype)):
            self.memory.create_tensor(name=name, size=size, dtype=dtype)

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """The policy's actions (it explores by itself), uniform ones during ``random_timesteps``."""
        if timestep < self._tabular.random_timesteps:
            return self.policy.random_act({"states": states}, role="policy")
        return self._tabular_act(states)

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """Episode statistics (base class), then, when training, keep the transition for the update."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if not self.training:
            return
        rewards = store_transition([self.memory, *self.secondary_memories], self._rewards_shaper, timestep, timesteps,
                                   rewards, states=states, actions=actions, next_states=next_states,
                                   terminated=terminated, truncated=truncated)
        self._transition = (states, actions, rewards, next_states, terminated, truncated)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update the Q-table with the last transition (once ``learning_starts`` is reached), then data/checkpoints."""
        if self.training and self._transition is not None and timestep >= self._tabular.learning_starts:
            self._tabular_update(*self._transition)
            self._transition = None
        super().post_interaction(timestep, timesteps)

    # hooks (backend) -------------------------------------------------------------------------------------------
    _float_dtype: Any = None
    _int_dtype: Any = None
    _bool_dtype: Any = None

    def _tabular_setup(self) -> None:
        """Backend state (e.g. the JAX PRNG key and jitted functions)."""

    def _tabular_act(self, states: Any) -> tuple:
        raise NotImplementedError

    def _tabular_update(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                        truncated: Any) -> None:
        raise NotImplementedError
