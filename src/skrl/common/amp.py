"""AMP (Adversarial Motion Priors), backend-free: default config, config checks and the parts of the schedule that
touch no arrays.

AMP is PPO whose rewards are (partly) a style reward from a discriminator that learns to tell the agent's AMP
observations (``infos["amp_obs"]``) from reference motions (``collect_reference_motions(n)``). The rollout is
PPO's with three more stored tensors (``next_states``, ``amp_states``, ``next_values``); the update shapes the
rewards with the discriminator, computes GAE with the stored next values, and trains policy, value and
discriminator together. The backend classes supply the array work through the ``_amp_*`` hooks.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Optional

from skrl.common.config_checks import check_non_negative, check_positive_int
from skrl.common.errors import InvalidConfigValueError
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG
from skrl.common.ppo import PPO_DEFAULT_CONFIG, PPOConfig, PPOSchedule

AMP_DEFAULT_CONFIG: dict[str, Any] = {
    **{key: value for key, value in PPO_DEFAULT_CONFIG.items() if key not in ("kl_threshold", "experiment")},
    "learning_epochs": 6,  # number of learning epochs per update
    "learning_rate": 5e-5,  # learning rate (policy, value and discriminator)
    "amp_state_preprocessor": None,  # AMP observation preprocessor class
    "amp_state_preprocessor_kwargs": {},  # its keyword arguments
    "grad_norm_clip": 0.0,  # clipping coefficient for the gradient norm (0 disables)
    "value_loss_scale": 2.5,  # value loss scaling factor
    "discriminator_loss_scale": 5.0,  # discriminator loss scaling factor
    "amp_batch_size": 512,  # reference motions collected per update (and per fill call of the motion dataset)
    "task_reward_weight": 0.0,  # weight of the environment's (task) reward
    "style_reward_weight": 1.0,  # weight of the discriminator's (style) reward
    "discriminator_batch_size": 0,  # rows of each AMP batch the discriminator trains on (0: the whole mini-batch)
    "discriminator_reward_scale": 2,  # scale of the style reward
    "discriminator_logit_regularization_scale": 0.05,  # L2 penalty on the discriminator's output-layer weights
    "discriminator_gradient_penalty_scale": 5,  # penalty on the discriminator's input gradient at reference motions
    "discriminator_weight_decay_scale": 1e-4,  # L2 penalty on every discriminator weight matrix
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}  # PPO's keys and defaults (without the KL early stop), AMP's own defaults where they differ, and the discriminator's

TRACKED_DISCRIMINATOR_LOSS = "Loss / Discriminator loss"


@dataclasses.dataclass(frozen=True)
class AMPConfig(PPOConfig):
    """Validated AMP hyperparameters: PPO's (without the KL early stop) and the discriminator's."""

    discriminator_loss_scale: float = 5.0
    amp_batch_size: int = 512
    task_reward_weight: float = 0.0
    style_reward_weight: float = 1.0
    discriminator_batch_size: int = 0
    discriminator_reward_scale: float = 2.0
    discriminator_logit_regularization_scale: float = 0.05
    discriminator_gradient_penalty_scale: float = 5.0
    discriminator_weight_decay_scale: float = 1e-4

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_int("amp_batch_size", self.amp_batch_size)
        if not isinstance(self.discriminator_batch_size, int) or isinstance(self.discriminator_batch_size, bool) \
                or self.discriminator_batch_size < 0:
            raise InvalidConfigValueError("Invalid `discriminator_batch_size`: expected an int >= 0 (0: the whole "
                                          f"mini-batch). Received: discriminator_batch_size={self.discriminator_batch_size!r}")
        for name in ("discriminator_loss_scale", "task_reward_weight", "style_reward_weight",
                     "discriminator_reward_scale", "discriminator_logit_regularization_scale",
                     "discriminator_gradient_penalty_scale", "discriminator_weight_decay_scale"):
            check_non_negative(name, getattr(self, name))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "AMPConfig":
        """AMP has no ``kl_threshold`` key: it never stops an epoch early (the KL only drives a KL-adaptive rate)."""
        fields = {f.name: cfg[f.name.rstrip("_")] for f in dataclasses.fields(cls) if f.name != "kl_threshold"}
        return cls(kl_threshold=0, **fields)


class AMPSchedule(PPOSchedule):
    """Mixin with AMP's backend-free control flow on top of PPO's; the backend class provides the ``_amp_*`` hooks.

    ``motion_dataset`` and ``reply_buffer`` are memories (e.g. ``RandomMemory(memory_size=200000)``):
    the reference motions, and the agent's own past AMP observations the discriminator also trains on.
    ``collect_reference_motions(n)`` returns ``n`` reference AMP observations, ``(n, amp size)``;
    ``collect_observation()``, when given, returns the observations to act on (they replace the trainer's).
    """

    default_config = AMP_DEFAULT_CONFIG
    config_class = AMPConfig
    _amp_tensors_names = ["states", "actions", "rewards", "next_states", "terminated", "log_prob", "values", "returns",
                          "advantages", "amp_states", "next_values"]

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None,
                 amp_observation_space: Any = None, motion_dataset: Any = None, reply_buffer: Any = None,
                 collect_reference_motions: Optional[Callable[[int], Any]] = None,
                 collect_observation: Optional[Callable[[], Any]] = None) -> None:
        self.amp_observation_space = amp_observation_space
        self.motion_dataset = motion_dataset
        self.reply_buffer = reply_buffer
        self.collect_reference_motions = collect_reference_motions
        self.collect_observation = collect_observation
        self._current_states: Any = None
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._register_preprocessor("amp_state_preprocessor", "_amp_state_preprocessor")

    def _amp_setup_discriminator(self) -> None:
        """Register the ``discriminator`` model (the backend's optimizer setup calls this first)."""
        self.discriminator = self.models.get("discriminator")
        self.checkpoint_modules["discriminator"] = self.discriminator

    # ---- rollout ---------------------------------------------------------------------------------------------

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """PPO's init; then the AMP tensors, and the motion dataset filled with reference motions."""
        super().init(trainer_cfg=trainer_cfg)
        if self.memory is not None:
            self.memory.create_tensor(name="next_states", size=self.observation_space, dtype=self._float_dtype)
            self.memory.create_tensor(name="amp_states", size=self.amp_observation_space, dtype=self._float_dtype)
            self.memory.create_tensor(name="next_values", size=1, dtype=self._float_dtype)
        self.tensors_names = list(self._amp_tensors_names)
        if self.motion_dataset is not None:
            if self.collect_reference_motions is None:
                raise ValueError("AMP was given a `motion_dataset` but no `collect_reference_motions` callable to fill "
                                 "it. Pass collect_reference_motions=lambda n: <(n, amp size) reference motions>")
            for buffer in (self.motion_dataset, self.reply_buffer):
                if buffer is not None:
                    buffer.create_tensor(name="states", size=self.amp_observation_space, dtype=self._float_dtype)
            batch = self._amp.amp_batch_size
            for _ in range(math.ceil(self.motion_dataset.memory_size / batch)):
                self.motion_dataset.add_samples(states=self.collect_reference_motions(batch))

    def _checkpointed_memories(self) -> dict[str, Any]:
        """With ``experiment.checkpoint_memory``, the motion dataset and the reply buffer are saved too: exact
        resume needs the reference motions and past AMP states the discriminator trains on."""
        return {**super()._checkpointed_memories(), "motion_dataset": self.motion_dataset,
                "reply_buffer": self.reply_buffer}

    @property
    def _amp(self) -> AMPConfig:
        return self._ppo

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """With ``collect_observation``, fetch the observations the next ``act`` and ``record_transition`` use."""
        if self.collect_observation is not None:
            self._current_states = self.collect_observation()
        super().pre_interaction(timestep, timesteps)

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        return super().act(states if self._current_states is None else self._current_states, timestep, timesteps)

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """PPO's, on the ``collect_observation`` states when given, also storing ``amp_states`` (from
        ``infos["amp_obs"]``) and ``next_values`` (PPO already passes ``next_states``, stored in its AMP tensor)."""
        if self._current_states is not None:
            states = self._current_states
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep,
                                  timesteps)

    def _ppo_extra_samples(self, next_states: Any, terminated: Any, infos: Any) -> dict:
        if not isinstance(infos, Mapping) or "amp_obs" not in infos:
            keys = sorted(infos) if isinstance(infos, Mapping) else type(infos).__name__
            raise KeyError(f"AMP needs the AMP observations of each step in infos['amp_obs'] (shape (num_envs, amp "
                           f"size)). Received infos with: {keys}")
        done = infos["terminate"] if "terminate" in infos else terminated
        return {"amp_states": infos["amp_obs"], "next_values": self._amp_next_values(next_states, done)}

    # ---- update ----------------------------------------------------------------------------------------------

    def _update(self, timestep: int, timesteps: int) -> None:
        if self.motion_dataset is not None:
            self.motion_dataset.add_samples(states=self.collect_reference_motions(self._amp.amp_batch_size))
        summary = self._amp_update(timestep, timesteps)
        if self.reply_buffer is not None:
            self.reply_buffer.add_samples(states=self._amp_flat_amp_states())
        self._track_update(summary)
        if summary is not None and self._tracking_enabled:
            self.track_data(TRACKED_DISCRIMINATOR_LOSS, summary["discriminator_loss"])

    def _amp_reference_batches(self, memory: Any, parts: int) -> Optional[list]:
        """``parts`` mini-batches of ``memory``'s AMP states, as many rows as the rollout in all (None if empty)."""
        if memory is None or not len(memory):
            return None
        return memory.sample(["states"], batch_size=len(self.memory), mini_batches=parts)

    # hooks (backend) -------------------------------------------------------------------------------------------

    def _amp_next_values(self, next_states: Any, done: Any) -> Any:
        """``V(next_states)`` (value preprocessor inverted), zero where ``done``."""
        raise NotImplementedError

    def _amp_update(self, timestep: int, timesteps: int) -> Optional[dict]:
        """Style rewards, GAE with the stored next values, and every epoch's steps; returns PPO's summary plus
        ``discriminator_loss`` (means over the mini-batches), or None when nothing stepped."""
        raise NotImplementedError

    def _amp_flat_amp_states(self) -> Any:
        """The rollout's AMP states as ``(rollouts * num_envs, amp size)`` rows (they go to the reply buffer)."""
        raise NotImplementedError
