"""DDPG and TD3, backend-free: default configs (one object for torch and JAX), config checks, exploration and delay.

TD3 is DDPG with twin critics, target policy smoothing and a delayed policy; the backends implement both with
one deterministic actor-critic class, told apart by the class attributes set here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

import gymnasium

from skrl.common.off_policy import (
    ACTOR_CRITIC_LEARNING_RATES,
    ActorCriticConfig,
    NoiseScaleSchedule,
    OffPolicySchedule,
    UpdatePlan,
    check_int,
    check_number,
    delayed_policy_updates,
    off_policy_default_config,
)

_DDPG_KEYS: dict[str, Any] = {
    "grad_norm_clip": 0,  # clipping coefficient for the gradient norm (0 disables)
    "exploration": {
        "noise": None,  # exploration noise instance (e.g. GaussianNoise, OrnsteinUhlenbeckNoise)
        "initial_scale": 1.0,  # noise scale at timestep 0
        "final_scale": 1e-3,  # noise scale at the end of the exploration timesteps
        "timesteps": None,  # exploration timesteps (None: the whole run)
    },
}

DDPG_DEFAULT_CONFIG = off_policy_default_config(ACTOR_CRITIC_LEARNING_RATES, _DDPG_KEYS)

TD3_DEFAULT_CONFIG = off_policy_default_config(ACTOR_CRITIC_LEARNING_RATES, {
    **_DDPG_KEYS,
    "policy_delay": 2,  # critic updates per policy update (and target update)
    "smooth_regularization_noise": None,  # target policy smoothing noise instance
    "smooth_regularization_clip": 0.5,  # clip of the smoothing noise
})


@dataclasses.dataclass(frozen=True)
class DDPGConfig(ActorCriticConfig):
    """Validated DDPG hyperparameters (see ``DDPG_DEFAULT_CONFIG``)."""

    exploration__initial_scale: float
    exploration__final_scale: float
    exploration__timesteps: Optional[int]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.noise_schedule  # checks the exploration keys

    @property
    def noise_schedule(self) -> NoiseScaleSchedule:
        return NoiseScaleSchedule(self.exploration__initial_scale, self.exploration__final_scale,
                                  self.exploration__timesteps)


@dataclasses.dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """Validated TD3 hyperparameters (see ``TD3_DEFAULT_CONFIG``)."""

    policy_delay: int
    smooth_regularization_clip: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("policy_delay", self.policy_delay, 1)
        check_number("smooth_regularization_clip", self.smooth_regularization_clip)


def action_bounds(action_space: Any, agent: str) -> Optional[tuple]:
    """``(low, high)`` of a Box action space (None for a bare shape); other gymnasium spaces are refused."""
    if isinstance(action_space, gymnasium.spaces.Box):
        return action_space.low, action_space.high
    if isinstance(action_space, gymnasium.spaces.Space):
        raise ValueError(f"Invalid `action_space` for {agent}: expected a gymnasium Box (continuous actions). "
                         f"Received: {action_space}")
    return None


class DDPGSchedule(OffPolicySchedule):
    """Deep Deterministic Policy Gradient: one critic, exploration noise scaled over time, targets every step."""

    default_config = DDPG_DEFAULT_CONFIG
    config_class = DDPGConfig
    model_roles = ("policy", "target_policy", "critic", "target_critic")
    target_roles = {"target_policy": "policy", "target_critic": "critic"}
    learning_rate_tags = {"policy": "Learning / Policy learning rate", "critic": "Learning / Critic learning rate"}
    critic_roles: tuple[str, ...] = ("critic",)
    target_critic_roles: tuple[str, ...] = ("target_critic",)

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._exploration_noise = self.cfg["exploration"]["noise"]
        self._smooth_noise = self.cfg.get("smooth_regularization_noise")
        self._noise_schedule = self._off.noise_schedule
        for key, noise in (("exploration.noise", self._exploration_noise),
                           ("smooth_regularization_noise", self._smooth_noise)):
            if noise is not None:
                self._check_noise(key, noise)

    def _check_spaces(self) -> None:
        self._action_bounds = action_bounds(self.action_space, type(self).__name__)

    def act(self, states: Any, timestep: int, timesteps: int) -> tuple:
        """Deterministic actions plus scaled exploration noise (clipped to the action space): ``(actions, None,
        outputs)``; ``outputs["mean_actions"]`` holds the noise-free actions, used by deterministic evaluation."""
        if timestep < self._off.random_timesteps:
            return self._random_actions(states)
        scale = None
        if self._exploration_noise is not None:
            scale = self._noise_schedule.scale(timestep, timesteps)
        actions, outputs, noise_statistics = self._deterministic_act(states, scale)
        if self._exploration_noise is not None:
            self._track_noise(noise_statistics)
        return actions, None, outputs

    def _policy_outputs(self, states: Any) -> dict:
        """The outputs of one noise-free policy call (the RNN variants' states during ``random_timesteps``)."""
        return self._deterministic_act(states, None)[1]

    def _noises(self) -> dict[str, Any]:
        return {"exploration": self._exploration_noise, "smoothing": self._smooth_noise}

    def _algorithm_state(self) -> dict:
        states = {name: self._to_host(noise.state) for name, noise in self._noises().items()
                  if hasattr(getattr(noise, "state", None), "shape")}
        return {**super()._algorithm_state(), "noise_states": states}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)
        noises = self._noises()
        for name, value in (state.get("noise_states") or {}).items():
            if noises.get(name) is not None:
                noises[name].state = self._noise_state_from_host(noises[name], value)

    # ---- hooks (backend) ----------------------------------------------------------------------------------------

    def _check_noise(self, key: str, noise: Any) -> None:
        """Raise ``TypeError`` naming ``key`` when ``noise`` cannot be used by this backend."""
        raise NotImplementedError

    def _noise_state_from_host(self, noise: Any, state: Any) -> Any:
        raise NotImplementedError

    def _deterministic_act(self, states: Any, scale: Optional[float]) -> tuple:
        """``(actions, outputs, noise (max, min, mean) or None)``; noise is added only when ``scale`` is not None."""
        raise NotImplementedError


class TD3Schedule(DDPGSchedule):
    """Twin Delayed DDPG: two critics (target = their minimum), smoothed target actions, delayed policy updates."""

    default_config = TD3_DEFAULT_CONFIG
    config_class = TD3Config
    model_roles = ("policy", "target_policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2")
    target_roles = {"target_policy": "policy", "target_critic_1": "critic_1", "target_critic_2": "critic_2"}
    critic_roles = ("critic_1", "critic_2")
    target_critic_roles = ("target_critic_1", "target_critic_2")

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        self._critic_update_counter = 0
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        if self._smooth_noise is None:
            from skrl._logging import logger

            logger.warning(f"{type(self).__name__}: no smooth regularization noise specified "
                           "(`smooth_regularization_noise`) to reduce the variance of the targets during training")

    def _plan_update(self, timestep: int) -> UpdatePlan:
        steps = self._off.gradient_steps
        updates = delayed_policy_updates(self._critic_update_counter, steps, self._off.policy_delay)
        self._critic_update_counter += steps
        return self._new_plan(updates)

    def _algorithm_state(self) -> dict:
        return {**super()._algorithm_state(), "critic_update_counter": int(self._critic_update_counter)}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)
        self._critic_update_counter = int(state.get("critic_update_counter", self._critic_update_counter))
