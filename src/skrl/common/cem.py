"""CEM (cross-entropy method), backend-free: default config, config checks, elite selection and the schedule.

Every ``rollouts`` steps the episodes that ended in the rollout are cut out of the memory (per environment),
their discounted returns computed, and the episodes whose return reaches the ``percentile`` quantile become the
elite. The policy is then fitted to the elite's actions by maximum likelihood (one optimizer step). The backend
classes supply acting and that step (``_cem_act``, ``_cem_fit``).

Differences from skrl 1.4.3: episodes are segmented in every environment (1.4.3 tracked only the first one),
returns are discounted from the episode's first step (1.4.3 reversed the exponents), and the loss is the
negative log-likelihood of the elite actions under the policy's own distribution (the same as 1.4.3's cross
entropy on logits for a Categorical policy; it also works for probability outputs and other discrete policies).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

import numpy as np

from skrl._logging import logger
from skrl.common.config_checks import check_fraction, check_non_negative, check_positive_int, config_fields
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG
from skrl.common.transitions import store_transition

CEM_DEFAULT_CONFIG: dict[str, Any] = {
    "rollouts": 16,  # number of rollouts (env steps per env) before updating
    "percentile": 0.70,  # percentile (quantile in [0, 1]) of the returns an elite episode must reach
    "discount_factor": 0.99,  # discount factor (gamma)
    "learning_rate": 1e-2,  # learning rate
    "learning_rate_scheduler": None,  # torch: scheduler class; JAX: schedule factory
    "learning_rate_scheduler_kwargs": {},  # its keyword arguments
    "state_preprocessor": None,  # state preprocessor class (e.g. RunningStandardScaler)
    "state_preprocessor_kwargs": {},  # its keyword arguments
    "random_timesteps": 0,  # random exploration steps
    "learning_starts": 0,  # steps before learning starts
    "rewards_shaper": None,  # rewards shaping function: f(rewards, timestep, timesteps) -> rewards
    "mixed_precision": False,  # torch only: automatic mixed precision
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


@dataclasses.dataclass(frozen=True)
class CEMConfig:
    """Validated CEM hyperparameters (see ``CEM_DEFAULT_CONFIG`` for each field's meaning)."""

    rollouts: int
    percentile: float
    discount_factor: float
    learning_rate: float
    random_timesteps: int
    learning_starts: int
    mixed_precision: bool

    def __post_init__(self) -> None:
        check_positive_int("rollouts", self.rollouts)
        check_fraction("percentile", self.percentile)
        for name in ("discount_factor", "learning_rate", "random_timesteps", "learning_starts"):
            check_non_negative(name, getattr(self, name))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "CEMConfig":
        return cls(**config_fields(cls, cfg))


@dataclasses.dataclass(frozen=True)
class EliteSelection:
    """The rows of a ``(T, N)`` rollout that belong to elite episodes, and the statistics tracked for it."""

    weights: np.ndarray  # (T, N) float32: 1 for a row of an elite episode, else 0
    threshold: float  # the return an episode had to reach
    mean_return: float  # mean discounted return of all the complete episodes


def episode_returns(rewards: np.ndarray, dones: np.ndarray, discount_factor: float) -> tuple[np.ndarray, list]:
    """Discounted returns of the episodes that end inside a ``(T, N)`` rollout, and each episode's rows.

    An environment's first episode starts at row 0 (it may have begun in the previous rollout); rows after its
    last ``done`` belong to an unfinished episode and are left out. Example: ``rewards[:, 0] = [1, 1, 1]``,
    ``dones[:, 0] = [0, 1, 0]`` and ``discount_factor=0.5`` give one episode, rows 0-1, return ``1 + 0.5 = 1.5``.
    """
    returns, rows = [], []
    for env in range(rewards.shape[1]):
        start = 0
        for end in np.flatnonzero(dones[:, env]):
            segment = rewards[start : end + 1, env]
            returns.append(float(np.sum(segment * discount_factor ** np.arange(len(segment)))))
            rows.append((env, start, end + 1))
            start = end + 1
    return np.asarray(returns, dtype=np.float64), rows


def select_elites(rewards: np.ndarray, dones: np.ndarray, discount_factor: float, percentile: float) -> Optional[EliteSelection]:
    """The episodes whose return is at least the ``percentile`` quantile of all returns; None without any episode."""
    rewards = np.asarray(rewards, dtype=np.float64).reshape(rewards.shape[0], -1)
    dones = np.asarray(dones, dtype=bool).reshape(rewards.shape)
    returns, rows = episode_returns(rewards, dones, discount_factor)
    if not len(returns):
        return None
    threshold = float(np.quantile(returns, percentile))
    weights = np.zeros(rewards.shape, dtype=np.float32)
    for value, (env, start, stop) in zip(returns, rows):
        if value >= threshold:
            weights[start:stop, env] = 1.0
    return EliteSelection(weights, threshold, float(np.mean(returns)))


class CEMSchedule:
    """Mixin with CEM's backend-free control flow; the backend class provides the ``_cem_*`` hooks."""

    default_config = CEM_DEFAULT_CONFIG
    tensors_names = ["states", "actions", "rewards"]

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._cem = CEMConfig.from_dict(self.cfg)
        self._learning_rate = self._cem.learning_rate
        self._rewards_shaper = self.cfg["rewards_shaper"]
        self._rollout = 0
        self.policy = self.models.get("policy")
        self.checkpoint_modules["policy"] = self.policy
        self._cem_build_optimizer()
        preprocessor = self.cfg["state_preprocessor"]
        self._state_preprocessor = preprocessor(**self.cfg["state_preprocessor_kwargs"]) if preprocessor else None
        if self._state_preprocessor is not None:
            self.checkpoint_modules["state_preprocessor"] = self._state_preprocessor
        else:
            self._state_preprocessor = self._empty_preprocessor

    def _empty_preprocessor(self, _input: Any, *args: Any, **kwargs: Any) -> Any:
        return _input

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """Resolve the data-layer intervals, put the policy in eval mode and create the rollout tensors."""
        super().init(trainer_cfg=trainer_cfg)
        self.set_mode("eval")
        if self.memory is None:
            return
        if self.memory.memory_size < self._cem.rollouts:
            raise ValueError(f"CEM selects elite episodes among the last `rollouts` steps, which the memory must hold. "
                             f"Received: memory_size={self.memory.memory_size}, rollouts={self._cem.rollouts}")
        self.memory.create_tensor(name="states", size=self.observation_space, dtype=self._float_dtype)
        self.memory.create_tensor(name="next_states", size=self.observation_space, dtype=self._float_dtype)
        self.memory.create_tensor(name="actions", size=self.action_space, dtype=self._int_dtype)
        self.memory.create_tensor(name="rewards", size=1, dtype=self._float_dtype)
        self.memory.create_tensor(name="terminated", size=1, dtype=self._bool_dtype)
        self.memory.create_tensor(name="truncated", size=1, dtype=self._bool_dtype)

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """Sample actions for ``states`` (uniformly during ``random_timesteps``); returns ``(actions, log_prob, outputs)``."""
        return self._cem_act(states, random=timestep < self._cem.random_timesteps)

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """Episode statistics (base class), then, when training, store the transition."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if self.memory is not None and self.training:
            store_transition([self.memory, *self.secondary_memories], self._rewards_shaper, timestep, timesteps,
                             rewards, states=states, actions=actions, next_states=next_states, terminated=terminated,
                             truncated=truncated)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update every ``rollouts`` steps (once ``learning_starts`` is reached), then write data and checkpoints."""
        if self.training and self.memory is not None:
            self._rollout += 1
            if self._rollout >= self._cem.rollouts and timestep >= self._cem.learning_starts:
                self._rollout = 0
                self.set_mode("train")
                self._update(timestep, timesteps)
                self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def _rollout_rows(self) -> np.ndarray:
        """Memory rows of the last ``rollouts`` steps, oldest first (the memory is a ring)."""
        size, end = self.memory.memory_size, self.memory.memory_index
        return (end - self._cem.rollouts + np.arange(self._cem.rollouts)) % size

    def _update(self, timestep: int, timesteps: int) -> None:
        rows = self._rollout_rows()
        rewards, terminated, truncated = (self._cem_to_numpy(self.memory.get_tensor_by_name(name)[rows])
                                          for name in ("rewards", "terminated", "truncated"))
        elites = select_elites(rewards, np.logical_or(terminated, truncated), self._cem.discount_factor,
                               self._cem.percentile)
        if elites is None:
            logger.warning("No returns to update. Consider increasing the number of rollouts")
            return
        states, actions = (self._flat_rows(name, rows) for name in ("states", "actions"))
        states = self._state_preprocessor(states, train=True)
        policy_loss = self._cem_fit(states, actions, elites.weights.reshape(-1, 1))
        self._cem_step_scheduler(timestep)
        if self._tracking_enabled:
            self.track_data("Loss / Policy loss", policy_loss)
            self.track_data("Coefficient / Return threshold", elites.threshold)
            self.track_data("Coefficient / Mean discounted returns", elites.mean_return)
            learning_rate = self._cem_learning_rate()
            if learning_rate is not None:
                self.track_data("Learning / Learning rate", learning_rate)

    def _flat_rows(self, name: str, rows: np.ndarray) -> Any:
        tensor = self.memory.get_tensor_by_name(name)[rows]
        return tensor.reshape(-1, *tensor.shape[2:])

    def _algorithm_state(self) -> dict:
        return {"rollout": int(self._rollout), "learning_rate": float(self._learning_rate), **self._cem_scheduler_state()}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        self._rollout = int(state.get("rollout", self._rollout))
        self._learning_rate = float(state.get("learning_rate", self._learning_rate))
        self._cem_restore_scheduler_state(state)

    # hooks (backend) -------------------------------------------------------------------------------------------
    _float_dtype: Any = None
    _int_dtype: Any = None
    _bool_dtype: Any = None

    def _cem_build_optimizer(self) -> None:
        raise NotImplementedError

    def _cem_act(self, states: Any, random: bool) -> tuple:
        raise NotImplementedError

    def _cem_to_numpy(self, tensor: Any) -> np.ndarray:
        raise NotImplementedError

    def _cem_fit(self, states: Any, actions: Any, weights: np.ndarray) -> Any:
        """One optimizer step on the weighted negative log-likelihood of ``actions``; returns the loss."""
        raise NotImplementedError

    def _cem_step_scheduler(self, timestep: int) -> None:
        raise NotImplementedError

    def _cem_learning_rate(self) -> Optional[Any]:
        raise NotImplementedError

    def _cem_scheduler_state(self) -> dict:
        return {}

    def _cem_restore_scheduler_state(self, state: Mapping[str, Any]) -> None:
        """Torch schedulers keep state of their own; JAX schedules are functions of the agent's learning rate."""
