"""Off-policy agents (DDPG, TD3, SAC, DQN, DDQN), backend-free: shared config checks, schedules and update loop.

``OffPolicySchedule`` is the mixin every off-policy agent builds on: it registers the models, stores transitions
in the replay memory, decides when to update (``learning_starts``, ``update_interval``) and how many gradient
steps to run, and turns the backend's results into the TensorBoard tags of skrl 1.4.3. The small frozen
policies (``NoiseScaleSchedule``, ``EpsilonSchedule``) and the array formulas written over an array namespace
``xp`` (``td_target``, ``value_statistics``, ``reduce_over_steps``) serve both backends.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Callable, Mapping, Optional, Sequence

from skrl.common.errors import InvalidConfigValueError
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG

OFF_POLICY_TENSORS = ("states", "actions", "rewards", "next_states", "terminated", "truncated")

#: result keys of a gradient step (see ``value_statistics``) and the TensorBoard tag each is written under
RESULT_TAGS = {
    "policy_loss": "Loss / Policy loss",
    "critic_loss": "Loss / Critic loss",
    "q_network_loss": "Loss / Q-network loss",
    "entropy_loss": "Loss / Entropy loss",
    "entropy_coefficient": "Coefficient / Entropy coefficient",
    **{f"{key}_{stat}": f"{group} ({stat})"
       for key, group in (("q1", "Q-network / Q1"), ("q2", "Q-network / Q2"), ("target", "Target / Target"))
       for stat in ("max", "min", "mean")},
}
NOISE_TAGS = tuple(f"Exploration / Exploration noise ({stat})" for stat in ("max", "min", "mean"))
EPSILON_TAG = "Exploration / Exploration epsilon"


# ---- default configs and their checks ----

ACTOR_CRITIC_LEARNING_RATES = {"actor_learning_rate": 1e-3, "critic_learning_rate": 1e-3}


def off_policy_default_config(learning_rates: Mapping[str, float], algorithm: Mapping[str, Any]) -> dict[str, Any]:
    """An off-policy ``*_DEFAULT_CONFIG`` in skrl 1.4.3's key order: the keys all off-policy agents have, the agent's
    ``learning_rates`` after ``polyak`` and its own keys (``algorithm``) after ``learning_starts``."""
    return {
        "gradient_steps": 1,  # gradient steps per update
        "batch_size": 64,  # training batch size
        "discount_factor": 0.99,  # discount factor (gamma)
        "polyak": 0.005,  # soft update coefficient of the targets (tau)
        **learning_rates,
        "learning_rate_scheduler": None,  # torch: scheduler class; JAX: schedule factory (e.g. optax constant_schedule)
        "learning_rate_scheduler_kwargs": {},  # its keyword arguments
        "state_preprocessor": None,  # state preprocessor class (e.g. RunningStandardScaler)
        "state_preprocessor_kwargs": {},  # its keyword arguments
        "random_timesteps": 0,  # random exploration steps
        "learning_starts": 0,  # steps before learning starts
        **copy.deepcopy(dict(algorithm)),
        "rewards_shaper": None,  # rewards shaping function: f(rewards, timestep, timesteps) -> rewards
        "mixed_precision": False,  # torch only: automatic mixed precision
        "experiment": copy.deepcopy(EXPERIMENT_DEFAULT_CONFIG),  # its own copy: user code may edit a shallow copy
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_int(name: str, value: Any, minimum: int) -> None:
    """Raise ``InvalidConfigValueError`` unless ``value`` is an int >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected an int >= {minimum}. Received: {name}={value!r}")


def check_number(name: str, value: Any, low: float = 0.0, high: float = math.inf) -> None:
    """Raise ``InvalidConfigValueError`` unless ``value`` is a finite number in ``[low, high]``."""
    if not _is_number(value) or not low <= value <= high:
        allowed = f"in [{low}, {high}]" if high != math.inf else f">= {low}"
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a number {allowed}. Received: {name}={value!r}")


def check_positive(name: str, value: Any) -> None:
    """Raise ``InvalidConfigValueError`` unless ``value`` is a finite number > 0 (learning rates)."""
    if not _is_number(value) or value <= 0:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a number > 0. Received: {name}={value!r}")


def check_optional_timesteps(name: str, value: Any) -> None:
    """``None`` or an int >= 0."""
    if value is not None:
        check_int(name, value, 0)


@dataclasses.dataclass(frozen=True)
class OffPolicyConfig:
    """The hyperparameters every off-policy agent has (see the agents' ``*_DEFAULT_CONFIG`` for their meaning)."""

    gradient_steps: int
    batch_size: int
    discount_factor: float
    polyak: float
    random_timesteps: int
    learning_starts: int
    mixed_precision: bool

    def __post_init__(self) -> None:
        check_int("gradient_steps", self.gradient_steps, 1)
        check_int("batch_size", self.batch_size, 1)
        check_number("discount_factor", self.discount_factor, 0.0, 1.0)
        check_number("polyak", self.polyak, 0.0, 1.0)
        check_int("random_timesteps", self.random_timesteps, 0)
        check_int("learning_starts", self.learning_starts, 0)

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "OffPolicyConfig":
        """Read the fields from a merged config dict; a nested key is written ``group__key`` in the field name."""
        values = {}
        for field in dataclasses.fields(cls):
            group, _, key = field.name.partition("__")
            values[field.name] = cfg[group][key] if key else cfg[group]
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class ActorCriticConfig(OffPolicyConfig):
    """The learning rates and gradient clipping of DDPG, TD3 and SAC."""

    actor_learning_rate: float
    critic_learning_rate: float
    grad_norm_clip: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("actor_learning_rate", self.actor_learning_rate)
        check_positive("critic_learning_rate", self.critic_learning_rate)
        check_number("grad_norm_clip", self.grad_norm_clip)


# ---- schedules ----------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class NoiseScaleSchedule:
    """DDPG/TD3 exploration noise scale: linear from ``initial_scale`` to ``final_scale`` over ``timesteps``.

    ``timesteps=None`` means the whole run. ``scale(t, T)`` is None once ``t`` is past the horizon (no noise then):
    ``NoiseScaleSchedule(1.0, 0.0, 10).scale(5, 100)`` is 0.5, ``.scale(11, 100)`` is None.
    """

    initial_scale: float
    final_scale: float
    timesteps: Optional[int]

    def __post_init__(self) -> None:
        check_number("exploration.initial_scale", self.initial_scale, -math.inf)
        check_number("exploration.final_scale", self.final_scale, -math.inf)
        check_optional_timesteps("exploration.timesteps", self.timesteps)

    def scale(self, timestep: int, timesteps: int) -> Optional[float]:
        """The noise scale at ``timestep`` of a run of ``timesteps`` (None: past the horizon, no noise)."""
        horizon = self.timesteps if self.timesteps is not None else timesteps
        if horizon <= 0 or timestep > horizon:
            return None
        return (1 - timestep / horizon) * (self.initial_scale - self.final_scale) + self.final_scale


@dataclasses.dataclass(frozen=True)
class EpsilonSchedule:
    """DQN epsilon-greedy exploration: ``final + (initial - final)·exp(-t / timesteps)`` (skrl 1.4.3's decay).

    ``timesteps`` None or 0 disables exploration (always greedy): ``epsilon(t)`` is then None.
    """

    initial_epsilon: float
    final_epsilon: float
    timesteps: Optional[int]

    def __post_init__(self) -> None:
        check_number("exploration.initial_epsilon", self.initial_epsilon, 0.0, 1.0)
        check_number("exploration.final_epsilon", self.final_epsilon, 0.0, 1.0)
        check_optional_timesteps("exploration.timesteps", self.timesteps)

    def epsilon(self, timestep: int) -> Optional[float]:
        """The probability of a random action at ``timestep`` (None: greedy, nothing to track)."""
        if not self.timesteps:
            return None
        return self.final_epsilon + (self.initial_epsilon - self.final_epsilon) * math.exp(-timestep / self.timesteps)


@dataclasses.dataclass(frozen=True)
class UpdatePlan:
    """What one update does, decided on the host before any array work.

    ``policy_updates[i]`` says whether gradient step ``i`` also steps the policy (TD3's delay; always True
    elsewhere); ``update_targets`` whether DQN's target network is blended after the steps. ``first_step`` and
    ``first_policy_step`` count the gradient steps and policy steps done before (learning-rate schedules).
    """

    policy_updates: tuple[bool, ...]
    first_step: int = 0
    first_policy_step: int = 0
    update_targets: bool = True

    @property
    def steps(self) -> int:
        """The number of gradient steps."""
        return len(self.policy_updates)

    def step_counts(self, group: str) -> list[int]:
        """How many steps of ``group`` ("policy" or any other optimizer group) precede each gradient step, and,
        last, how many are done after the update (``steps + 1`` counts)."""
        if group != "policy":
            return [self.first_step + i for i in range(self.steps + 1)]
        done = [self.first_policy_step]
        for update in self.policy_updates:
            done.append(done[-1] + int(update))
        return done


def delayed_policy_updates(counter: int, steps: int, delay: int) -> tuple[bool, ...]:
    """TD3: the critic-update counter runs ``counter + 1 ... counter + steps``; the policy steps when it divides by
    ``delay``: ``delayed_policy_updates(1, 3, 2)`` is ``(True, False, True)``."""
    return tuple((counter + i + 1) % delay == 0 for i in range(steps))


# ---- array formulas (xp: torch, numpy or jax.numpy) ------------------------------------------------------------

def td_target(xp: Any, rewards: Any, terminated: Any, truncated: Any, discount_factor: float, next_values: Any) -> Any:
    """``r + γ·(1 - d)·V'`` where ``d`` is termination or truncation (as skrl 1.4.3)."""
    done = xp.logical_or(terminated != 0, truncated != 0)
    return rewards + discount_factor * xp.where(done, xp.zeros_like(next_values), next_values)


def value_statistics(prefix: str, values: Any) -> dict[str, Any]:
    """``{prefix_max, prefix_min, prefix_mean}`` of an array (device scalars, not fetched)."""
    return {f"{prefix}_max": values.max(), f"{prefix}_min": values.min(), f"{prefix}_mean": values.mean()}


def reduce_over_steps(xp: Any, results: Mapping[str, Any], masks: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """Per-step results ``(steps,)`` to one value each: max of ``*_max``, min of ``*_min``, else the mean.

    ``masks[key]`` limits the mean of ``key`` to the steps where it is true (TD3's delayed policy loss).
    """
    masks = masks or {}
    reduced = {}
    for key, values in results.items():
        if key.endswith("_max"):
            reduced[key] = values.max()
        elif key.endswith("_min"):
            reduced[key] = values.min()
        elif key in masks:
            weights = masks[key].astype(values.dtype)
            reduced[key] = (values * weights).sum() / xp.maximum(weights.sum(), 1.0)
        else:
            reduced[key] = values.mean()
    return reduced


# ---- the agent mixin ----------------------------------------------------------------------------------------------

def register_preprocessor(agent: Any, key: str, attribute: str) -> None:
    """Build ``cfg[key](**cfg[key_kwargs])`` as ``agent.<attribute>`` and checkpoint it, or use the identity."""
    cls = agent.cfg[key]
    if cls:
        preprocessor = cls(**agent.cfg[f"{key}_kwargs"])
        setattr(agent, attribute, preprocessor)
        agent.checkpoint_modules[key] = preprocessor
    else:
        setattr(agent, attribute, agent._empty_preprocessor)


class OffPolicySchedule:
    """Mixin with the backend-free control flow of off-policy agents.

    An agent class sets ``default_config``, ``config_class``, ``model_roles`` (checkpoint order of skrl 1.4.3) and
    ``target_roles`` (target → source) and implements ``act``. The backend classes come first in the bases
    (``class DDPG(TorchOffPolicy, DDPGSchedule, Agent)``) so that they override the hooks declared here:
    ``_build_optimizers``, ``_copy_to_target``, ``_run_gradient_steps``, ``_learning_rate`` and the dtypes.
    """

    default_config: Mapping[str, Any] = {}
    config_class: type = OffPolicyConfig
    model_roles: tuple[str, ...] = ()
    target_roles: Mapping[str, str] = {}
    #: ``{optimizer group: tag}`` of the learning rates written when a scheduler is configured
    learning_rate_tags: Mapping[str, str] = {}
    _tensors_names = list(OFF_POLICY_TENSORS)

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(models=models, memory=memory, observation_space=observation_space,
                         action_space=action_space, device=device, cfg=cfg)
        self._off = self.config_class.from_dict(self.cfg)
        self._check_spaces()
        for role in self.model_roles:
            setattr(self, role, self.models.get(role))
            if self.models.get(role) is not None:
                self.checkpoint_modules[role] = self.models[role]
        self._rewards_shaper: Optional[Callable] = self.cfg["rewards_shaper"]
        self._gradient_step_count = 0
        self._policy_step_count = 0
        for target, source in self.target_roles.items():
            if self.models.get(target) is not None and self.models.get(source) is not None:
                self._copy_to_target(self.models[target], self.models[source])
        self._build_optimizers()
        register_preprocessor(self, "state_preprocessor", "_state_preprocessor")

    def _check_spaces(self) -> None:
        """Raise a clear error when the action space does not suit the agent (hook)."""

    def _empty_preprocessor(self, _input: Any, *args: Any, **kwargs: Any) -> Any:
        return _input

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """Resolve the data-layer intervals, put the models in eval mode and create the replay tensors."""
        super().init(trainer_cfg=trainer_cfg)
        self.set_mode("eval")
        if self.memory is not None:
            self.memory.create_tensor(name="states", size=self.observation_space, dtype=self._float_dtype)
            self.memory.create_tensor(name="next_states", size=self.observation_space, dtype=self._float_dtype)
            self.memory.create_tensor(name="actions", size=self.action_space, dtype=self._actions_dtype())
            self.memory.create_tensor(name="rewards", size=1, dtype=self._float_dtype)
            self.memory.create_tensor(name="terminated", size=1, dtype=self._bool_dtype)
            self.memory.create_tensor(name="truncated", size=1, dtype=self._bool_dtype)

    def _actions_dtype(self) -> Any:
        return self._float_dtype

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """Episode statistics (base class), then, when training, store the (reward-shaped) transition."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps)
        if self.memory is None or not self.training:
            return
        if self._rewards_shaper is not None:
            rewards = self._rewards_shaper(rewards, timestep, timesteps)
        extra = self._transition_samples()
        for memory in [self.memory, *self.secondary_memories]:
            memory.add_samples(states=states, actions=actions, rewards=rewards, next_states=next_states,
                               terminated=terminated, truncated=truncated, **extra)

    def _transition_samples(self) -> dict:
        """More samples of each stored transition, by memory name (the RNN variants' states); none here."""
        return {}

    def _act_inputs(self) -> dict:
        """More inputs of the policy's rollout calls (the RNN variants' states); none here."""
        return {}

    def _should_update(self, timestep: int) -> bool:
        return timestep >= self._off.learning_starts

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Run ``gradient_steps`` gradient steps when an update is due, then write data and checkpoints."""
        if self.training and self.memory is not None and len(self.memory) and self._should_update(timestep):
            self.set_mode("train")
            self._update(timestep, timesteps)
            self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def _new_plan(self, policy_updates: Optional[tuple] = None, update_targets: bool = True) -> UpdatePlan:
        policy_updates = (True,) * self._off.gradient_steps if policy_updates is None else policy_updates
        return UpdatePlan(policy_updates, self._gradient_step_count, self._policy_step_count, update_targets)

    def _plan_update(self, timestep: int) -> UpdatePlan:
        del timestep
        return self._new_plan()

    def _update(self, timestep: int, timesteps: int) -> None:
        plan = self._plan_update(timestep)
        results = self._run_gradient_steps(plan)
        self._gradient_step_count += plan.steps
        self._policy_step_count += sum(plan.policy_updates)
        if not self._tracking_enabled:
            return
        for result in results:
            for key, value in result.items():
                if key != "policy_loss" or any(plan.policy_updates):
                    self.track_data(RESULT_TAGS[key], value)
        if self.cfg["learning_rate_scheduler"]:
            for group, tag in self.learning_rate_tags.items():
                self.track_data(tag, self._learning_rate(group))

    def _random_actions(self, states: Any) -> tuple:
        """``(actions, None, {})`` drawn uniformly from the action space by the policy (``random_timesteps``)."""
        return self.policy.random_act({"states": states}, role="policy")

    def _track_noise(self, statistics: Optional[Sequence[Any]]) -> None:
        """Exploration noise (max, min, mean), or zeros once the exploration horizon has passed."""
        for tag, value in zip(NOISE_TAGS, statistics if statistics is not None else (0.0, 0.0, 0.0)):
            self.track_data(tag, value)

    # ---- resume state -------------------------------------------------------------------------------------------

    # Every class of an agent's bases adds its part of the resume state (counters, schedulers, noise states, the
    # entropy coefficient) to ``super()``'s, and restores it after ``super()`` has restored the rest.
    def _algorithm_state(self) -> dict:
        return {**super()._algorithm_state(), "gradient_steps_done": int(self._gradient_step_count),  # type: ignore[misc]
                "policy_steps_done": int(self._policy_step_count)}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)  # type: ignore[misc]
        self._gradient_step_count = int(state.get("gradient_steps_done", self._gradient_step_count))
        self._policy_step_count = int(state.get("policy_steps_done", self._policy_step_count))

    # ---- hooks (backend) ----------------------------------------------------------------------------------------
    _float_dtype: Any = None
    _bool_dtype: Any = None

    def _copy_to_target(self, target: Any, source: Any) -> None:
        raise NotImplementedError

    def _build_optimizers(self) -> None:
        raise NotImplementedError

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        """Run ``plan.steps`` gradient steps; return result dicts (``RESULT_TAGS`` keys) to track, device scalars."""
        raise NotImplementedError

    def _learning_rate(self, group: str) -> Any:
        raise NotImplementedError
