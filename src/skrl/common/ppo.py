"""PPO, backend-free: its default config (one object for torch and JAX), config checks and update schedule.

The backend classes (``skrl.torch.ppo`` / ``skrl.jax.ppo``) supply the array work: acting, storing a
transition, returns/advantages, one mini-batch step. The loop over epochs and mini-batches, the KL early
stop, the scheduler cadence and the tracked tags are decided here, once.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from skrl._logging import logger
from skrl.common.errors import InvalidConfigValueError
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG

PPO_DEFAULT_CONFIG: dict[str, Any] = {
    "rollouts": 16,  # number of rollouts (env steps per env) before updating
    "learning_epochs": 8,  # number of learning epochs per update
    "mini_batches": 2,  # number of mini-batches per epoch
    "discount_factor": 0.99,  # discount factor (gamma)
    "lambda": 0.95,  # TD(lambda) coefficient (lam) for GAE
    "learning_rate": 1e-3,  # learning rate
    "learning_rate_scheduler": None,  # torch: scheduler class; JAX: schedule factory (e.g. KLAdaptiveLR)
    "learning_rate_scheduler_kwargs": {},  # its keyword arguments
    "state_preprocessor": None,  # state preprocessor class (e.g. RunningStandardScaler)
    "state_preprocessor_kwargs": {},  # its keyword arguments
    "value_preprocessor": None,  # value preprocessor class
    "value_preprocessor_kwargs": {},  # its keyword arguments
    "random_timesteps": 0,  # random exploration steps
    "learning_starts": 0,  # steps before learning starts
    "grad_norm_clip": 0.5,  # clipping coefficient for the gradient norm (0 disables)
    "ratio_clip": 0.2,  # clipping coefficient for the probability ratio
    "value_clip": 0.2,  # clipping coefficient for predicted values
    "clip_predicted_values": False,  # clip predicted values
    "entropy_loss_scale": 0.0,  # entropy loss scaling factor
    "value_loss_scale": 1.0,  # value loss scaling factor
    "kl_threshold": 0,  # KL divergence threshold for early stopping (0 disables)
    "rewards_shaper": None,  # rewards shaping function: f(rewards, timestep, timesteps) -> rewards
    "time_limit_bootstrap": False,  # bootstrap at timeout termination (episode truncation)
    "mixed_precision": False,  # torch only: automatic mixed precision
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}

TRACKED_LOSSES = (("policy_loss", "Loss / Policy loss"), ("value_loss", "Loss / Value loss"))


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected an int >= 1. Received: {name}={value!r}")


def _non_negative(name: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a number >= 0. Received: {name}={value!r}")


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Validated PPO hyperparameters (see ``PPO_DEFAULT_CONFIG`` for each field's meaning)."""

    rollouts: int
    learning_epochs: int
    mini_batches: int
    discount_factor: float
    lambda_: float
    learning_rate: float
    random_timesteps: int
    learning_starts: int
    grad_norm_clip: float
    ratio_clip: float
    value_clip: float
    clip_predicted_values: bool
    entropy_loss_scale: float
    value_loss_scale: float
    kl_threshold: float
    time_limit_bootstrap: bool
    mixed_precision: bool

    def __post_init__(self) -> None:
        for name in ("rollouts", "learning_epochs", "mini_batches"):
            _positive_int(name, getattr(self, name))
        for name in ("discount_factor", "lambda_", "learning_rate", "random_timesteps", "learning_starts",
                     "grad_norm_clip", "ratio_clip", "value_clip", "entropy_loss_scale", "value_loss_scale",
                     "kl_threshold"):
            _non_negative(name.rstrip("_"), getattr(self, name))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "PPOConfig":
        fields = {f.name: cfg[f.name.rstrip("_")] for f in dataclasses.fields(cls)}
        return cls(**fields)


class PPOSchedule:
    """Mixin with PPO's backend-free control flow; the backend class provides the ``_ppo_*`` hooks."""

    default_config = PPO_DEFAULT_CONFIG
    #: the validated config dataclass (variants with other keys, such as TRPO, set their own)
    config_class: Any = PPOConfig
    _tensors_names = ["states", "actions", "log_prob", "values", "returns", "advantages"]

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._setup_ppo()
        self.policy = self.models.get("policy")
        self.value = self.models.get("value")
        self.checkpoint_modules["policy"] = self.policy
        self.checkpoint_modules["value"] = self.value
        self._ppo_build_optimizers()
        self._register_preprocessor("state_preprocessor", "_state_preprocessor")
        self._register_preprocessor("value_preprocessor", "_value_preprocessor")

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """Resolve the data-layer intervals, put the models in eval mode and create the rollout tensors."""
        super().init(trainer_cfg=trainer_cfg)
        self.set_mode("eval")
        self._create_memory_tensors()

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """Episode statistics (base class), then, when training, store the transition with its value estimate."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if self.memory is None or not self.training:
            return
        self._current_next_states = next_states
        if self._rewards_shaper is not None:
            rewards = self._rewards_shaper(rewards, timestep, timesteps)
        values = self._ppo_values_of(states)
        if self._ppo.time_limit_bootstrap:
            rewards = rewards + self._discount_factor * values * truncated
        self._ppo_store(states=states, actions=actions, rewards=rewards, next_states=next_states, terminated=terminated,
                        truncated=truncated, log_prob=self._current_log_prob, values=values,
                        **self._ppo_extra_samples(next_states, terminated, infos))

    def _ppo_extra_samples(self, next_states: Any, terminated: Any, infos: Any) -> dict:
        """More samples a variant stores with each transition (AMP: its AMP states and next values)."""
        return {}

    def _model_inputs(self, states: Any) -> dict:
        """The inputs of every policy and value call for (preprocessed) ``states`` (RPO adds ``alpha``)."""
        return {"states": states}

    def _ppo_store(self, **samples: Any) -> None:
        """Add one step's samples to every memory (a backend may write them in fewer dispatches)."""
        for memory in [self.memory, *self.secondary_memories]:
            memory.add_samples(**samples)

    def _setup_ppo(self) -> None:
        self._ppo = self.config_class.from_dict(self.cfg)
        self._rollouts = self._ppo.rollouts
        self._learning_epochs = self._ppo.learning_epochs
        self._mini_batches = self._ppo.mini_batches
        self._discount_factor = self._ppo.discount_factor
        self._lambda = self._ppo.lambda_
        self._learning_rate = self._ppo.learning_rate
        self._random_timesteps = self._ppo.random_timesteps
        self._learning_starts = self._ppo.learning_starts
        self._rewards_shaper = self.cfg["rewards_shaper"]
        self._rollout = 0
        self._current_log_prob: Any = None
        self._current_next_states: Any = None

    def _register_preprocessor(self, key: str, attribute: str) -> None:
        cls = self.cfg[key]
        if cls:
            preprocessor = cls(**self.cfg[f"{key}_kwargs"])
            setattr(self, attribute, preprocessor)
            self.checkpoint_modules[key] = preprocessor
        else:
            setattr(self, attribute, self._empty_preprocessor)

    def _empty_preprocessor(self, _input: Any, *args: Any, **kwargs: Any) -> Any:
        return _input

    def _create_memory_tensors(self) -> None:
        if self.memory is None:
            return
        for memory in [self.memory]:
            memory.create_tensor(name="states", size=self.observation_space, dtype=self._float_dtype)
            memory.create_tensor(name="actions", size=self.action_space, dtype=self._float_dtype)
            for name in ("rewards", "log_prob", "values", "returns", "advantages"):
                memory.create_tensor(name=name, size=1, dtype=self._float_dtype)
            memory.create_tensor(name="terminated", size=1, dtype=self._bool_dtype)
            memory.create_tensor(name="truncated", size=1, dtype=self._bool_dtype)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update every ``rollouts`` steps (once ``learning_starts`` is reached), then write data and checkpoints."""
        if self.training:
            self._rollout += 1
            if not self._rollout % self._rollouts and timestep >= self._learning_starts:
                self.set_mode("train")
                self._update(timestep, timesteps)
                self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def _update(self, timestep: int, timesteps: int) -> None:
        self._track_update(self._ppo_update(timestep, timesteps))

    def _ppo_update(self, timestep: int, timesteps: int) -> Optional[dict]:
        """Returns/advantages, then every epoch's mini-batch steps with the KL early stop and the scheduler.

        Returns the summary to track (``policy_loss``, ``value_loss``, ``entropy_loss``: means over the mini-batches
        that stepped; ``stddev``: the last one's), or None when none stepped. A backend may run it in one call.
        """
        self._ppo_compute_advantages()
        results: list[dict] = []
        threshold = self._ppo.kl_threshold
        for epoch in range(self._learning_epochs):
            kls = []
            for batch in self._ppo_minibatches():
                out = self._ppo_train_minibatch(batch, epoch)
                kls.append(out["kl"])
                if threshold and self._ppo_is_true(out["stopped"]):
                    break
                results.append(out)
            self._ppo_step_scheduler(timestep, kls)
        if not results:
            return None
        summary = {key: self._ppo_mean([r[key] for r in results]) for key in ("policy_loss", "value_loss", "entropy_loss")}
        return {**summary, "stddev": results[-1]["stddev"]}

    def _track_update(self, summary: Optional[Mapping[str, Any]]) -> None:
        if summary is None or not self._tracking_enabled:
            return
        for key, tag in TRACKED_LOSSES:
            self.track_data(tag, summary[key])
        if self._ppo.entropy_loss_scale:
            self.track_data("Loss / Entropy loss", summary["entropy_loss"])
        self.track_data("Policy / Standard deviation", summary["stddev"])
        learning_rate = self._ppo_learning_rate()
        if learning_rate is not None:
            self.track_data("Learning / Learning rate", learning_rate)

    def _algorithm_state(self) -> dict:
        return {"rollout": int(self._rollout), "learning_rate": float(self._learning_rate), **self._ppo_scheduler_state()}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        if "rollout" in state:
            self._rollout = int(state["rollout"])
            partial = self._rollout % self._rollouts
            if partial and self.memory is not None and getattr(self.memory, "memory_index", partial) != partial:
                # a checkpoint taken mid-rollout without its memory: collect a whole new rollout (updating on the
                # rows this process never filled would train on NaN)
                logger.info(f"The checkpoint was written {partial} steps into a rollout without the memory "
                            "(experiment.checkpoint_memory): the first update waits for a whole new rollout")
                self._rollout -= partial
        if "learning_rate" in state:
            self._learning_rate = float(state["learning_rate"])
        self._ppo_restore_scheduler_state(state)

    def _ppo_scheduler_state(self) -> dict:
        return {}

    def _ppo_restore_scheduler_state(self, state: Mapping[str, Any]) -> None:
        """Torch schedulers keep state of their own; JAX schedules are functions of the agent's learning rate."""

    # hooks (backend) -------------------------------------------------------------------------------------------
    _float_dtype: Any = None
    _bool_dtype: Any = None

    def _ppo_build_optimizers(self) -> None:
        raise NotImplementedError

    def _ppo_values_of(self, states: Any) -> Any:
        raise NotImplementedError

    def _ppo_compute_advantages(self) -> None:
        raise NotImplementedError

    def _ppo_minibatches(self) -> list:
        """A fresh random split of the rollout into ``mini_batches`` (near-equal, none empty) for one epoch."""
        size = len(self.memory)
        parts = max(1, min(self._mini_batches, size))
        indexes = self._ppo_permutation(size)
        return self.memory.sample_by_index(self._tensors_names, indexes, mini_batches=parts)

    def _ppo_permutation(self, size: int) -> Any:
        raise NotImplementedError

    def _ppo_train_minibatch(self, batch: Any, epoch: int) -> dict:
        raise NotImplementedError

    def _ppo_step_scheduler(self, timestep: int, kls: list) -> None:
        raise NotImplementedError

    def _ppo_learning_rate(self) -> Optional[Any]:
        raise NotImplementedError

    def _ppo_mean(self, values: list) -> Any:
        raise NotImplementedError

    def _ppo_is_true(self, value: Any) -> bool:
        return bool(value)
