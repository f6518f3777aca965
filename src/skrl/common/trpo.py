"""TRPO, backend-free: default config (one object for torch and JAX), config checks and the update schedule.

TRPO collects rollouts exactly as PPO does (acting, stored values, time-limit bootstrap, GAE), so its schedule is
``PPOSchedule`` with another config and another update: one natural-gradient step of the policy on the whole
rollout (conjugate gradient on the Fisher-vector product, then a backtracking line search under a KL bound),
then ``learning_epochs`` x ``mini_batches`` regression steps of the value function. The backend classes supply
the two steps (``_trpo_policy_step``, ``_trpo_value_step``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from skrl.common.config_checks import check_fraction, check_non_negative, check_positive_int, config_fields
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG
from skrl.common.ppo import PPOSchedule

TRPO_DEFAULT_CONFIG: dict[str, Any] = {
    "rollouts": 16,  # number of rollouts (env steps per env) before updating
    "learning_epochs": 8,  # number of epochs of value-function regression per update
    "mini_batches": 2,  # number of mini-batches per value epoch
    "discount_factor": 0.99,  # discount factor (gamma)
    "lambda": 0.95,  # TD(lambda) coefficient (lam) for GAE
    "value_learning_rate": 1e-3,  # learning rate of the value function's optimizer
    "learning_rate_scheduler": None,  # value optimizer: torch scheduler class; JAX schedule factory
    "learning_rate_scheduler_kwargs": {},  # its keyword arguments
    "state_preprocessor": None,  # state preprocessor class (e.g. RunningStandardScaler)
    "state_preprocessor_kwargs": {},  # its keyword arguments
    "value_preprocessor": None,  # value preprocessor class
    "value_preprocessor_kwargs": {},  # its keyword arguments
    "random_timesteps": 0,  # random exploration steps
    "learning_starts": 0,  # steps before learning starts
    "grad_norm_clip": 0.5,  # clipping coefficient for the value gradients' norm (0 disables)
    "value_loss_scale": 1.0,  # value loss scaling factor
    "damping": 0.1,  # damping added to the Fisher-vector product (F + damping * I)
    "max_kl_divergence": 0.01,  # KL bound of the policy step (trust region radius)
    "conjugate_gradient_steps": 10,  # maximum conjugate gradient iterations
    "max_backtrack_steps": 10,  # maximum line search steps (step_fraction * 0.5**i)
    "accept_ratio": 0.5,  # minimum ratio of actual to expected surrogate improvement to accept a step
    "step_fraction": 1.0,  # fraction of the full natural-gradient step tried first
    "rewards_shaper": None,  # rewards shaping function: f(rewards, timestep, timesteps) -> rewards
    "time_limit_bootstrap": False,  # bootstrap at timeout termination (episode truncation)
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


@dataclasses.dataclass(frozen=True)
class TRPOConfig:
    """Validated TRPO hyperparameters (see ``TRPO_DEFAULT_CONFIG`` for each field's meaning)."""

    rollouts: int
    learning_epochs: int
    mini_batches: int
    discount_factor: float
    lambda_: float
    value_learning_rate: float
    random_timesteps: int
    learning_starts: int
    grad_norm_clip: float
    value_loss_scale: float
    damping: float
    max_kl_divergence: float
    conjugate_gradient_steps: int
    max_backtrack_steps: int
    accept_ratio: float
    step_fraction: float
    time_limit_bootstrap: bool

    def __post_init__(self) -> None:
        for name in ("rollouts", "learning_epochs", "mini_batches", "conjugate_gradient_steps", "max_backtrack_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("discount_factor", "lambda_", "value_learning_rate", "random_timesteps", "learning_starts",
                     "grad_norm_clip", "value_loss_scale", "damping", "max_kl_divergence", "accept_ratio"):
            check_non_negative(name.rstrip("_"), getattr(self, name))
        check_fraction("step_fraction", self.step_fraction)

    @property
    def learning_rate(self) -> float:
        """The rate of the only gradient-descent optimizer (the value function's)."""
        return self.value_learning_rate

    @property
    def mixed_precision(self) -> bool:
        """TRPO runs in full precision (its second-order step is sensitive to rounding)."""
        return False

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "TRPOConfig":
        return cls(**config_fields(cls, cfg))


class TRPOSchedule(PPOSchedule):
    """Mixin with TRPO's backend-free control flow; the backend class provides the rollout hooks of PPO and
    ``_trpo_policy_step`` / ``_trpo_value_step``."""

    default_config = TRPO_DEFAULT_CONFIG
    config_class = TRPOConfig
    _policy_tensors = ("states", "actions", "log_prob", "advantages")
    _value_tensors = ("states", "returns")

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        policy, value = (models or {}).get("policy"), (models or {}).get("value")
        if policy is not None and policy is value:
            raise ValueError("TRPO needs separate `policy` and `value` models (its policy step changes only the policy "
                             "parameters). Received: the same model for both roles")
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)

    def _update(self, timestep: int, timesteps: int) -> None:
        self._ppo_compute_advantages()
        batch = self._trpo_policy_batch()
        states, actions, log_prob, advantages = batch[:4]
        states = self._state_preprocessor(states, train=True)
        policy = self._trpo_policy_step(states, actions, log_prob, advantages, *self._trpo_inputs(batch[4:], "policy"))
        value_losses = []
        for epoch in range(self._learning_epochs):
            for batch in self._value_minibatches():
                states, returns = batch[:2]
                states = self._state_preprocessor(states, train=not epoch)
                value_losses.append(self._trpo_value_step(states, returns, *self._trpo_inputs(batch[2:], "value")))
            self._ppo_step_scheduler(timestep, [])
        self._track_trpo(policy, value_losses)

    def _trpo_policy_batch(self) -> list:
        """The whole rollout's states, actions, log-probabilities and advantages (the RNN variant adds more)."""
        return self.memory.sample_all(list(self._policy_tensors))[0]

    def _value_minibatches(self) -> list:
        """A fresh random split of the rollout into ``mini_batches`` (none empty) of states and returns."""
        size = len(self.memory)
        parts = max(1, min(self._mini_batches, size))
        return self.memory.sample_by_index(list(self._value_tensors), self._ppo_permutation(size), mini_batches=parts)

    def _trpo_inputs(self, extra: Any, role: str) -> tuple:
        """More arguments of the policy or value step from a batch's extra entries: none here (the RNN variant
        gives one, the model calls' extra inputs)."""
        return ()

    def _track_trpo(self, policy: Mapping[str, Any], value_losses: list) -> None:
        if not self._tracking_enabled:
            return
        self.track_data("Loss / Policy loss", policy["policy_loss"])
        self.track_data("Loss / Value loss", self._ppo_mean(value_losses))
        self.track_data("Policy / Standard deviation", policy["stddev"])
        learning_rate = self._ppo_learning_rate()
        if learning_rate is not None:
            self.track_data("Learning / Value learning rate", learning_rate)

    # hooks (backend) -------------------------------------------------------------------------------------------

    def _trpo_policy_step(self, states: Any, actions: Any, log_prob: Any, advantages: Any) -> dict:
        """One trust-region step of the policy on the (preprocessed) rollout; returns ``policy_loss`` (the
        negated surrogate after the step) and ``stddev`` (mean standard deviation, NaN for discrete policies)."""
        raise NotImplementedError

    def _trpo_value_step(self, states: Any, returns: Any) -> Any:
        """One optimizer step of the value function on a mini-batch; returns the (scaled) value loss."""
        raise NotImplementedError
