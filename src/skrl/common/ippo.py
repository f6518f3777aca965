"""IPPO, backend-free: one PPO learner per agent id, composed under one multi-agent data layer.

Independent PPO is PPO run by each agent on its own observations, with its own models, memory, optimizer and
settings. So each agent's learning is the single-agent ``PPO`` of the backend (nothing of its algorithm is
written again), built with that agent's config values; the multi-agent object owns the run directory, the
team's episode statistics, the TensorBoard tags (each learner's tags get the ``" (<uid>)"`` suffix) and the
checkpoints (``{uid: {module: state}}``, the learners' modules).
"""

from __future__ import annotations

import copy
import os
from typing import Any, Mapping, Optional, Sequence

from skrl.common.errors import InvalidConfigValueError
from skrl.common.ppo import PPO_DEFAULT_CONFIG

#: the PPO keys (skrl 1.4.3); each one but ``GLOBAL_KEYS`` and ``experiment`` takes one value per agent
IPPO_DEFAULT_CONFIG: dict[str, Any] = copy.deepcopy(PPO_DEFAULT_CONFIG)

#: keys that take one value for the whole team (the update cadence is common to every agent)
GLOBAL_KEYS = ("rollouts", "random_timesteps", "learning_starts", "rewards_shaper", "mixed_precision", "experiment")


class AgentLearnerMixin:
    """Makes a single-agent algorithm the learner of one agent of a multi-agent algorithm (its ``owner``).

    The learner keeps no data layer of its own: its tags go to the owner with the suffix ``" (<uid>)"``, it
    collects no episode statistics (the owner does, for the team) and writes no files.
    """

    _owner: Any = None
    _uid: str = ""

    def attach_to_owner(self, owner: Any, uid: str) -> None:
        self._owner, self._uid = owner, uid

    @property
    def _tracking_enabled(self) -> bool:
        return self._owner is not None and self._owner._tracking_enabled

    @property
    def _statistics_enabled(self) -> bool:
        return False

    def track_data(self, tag: str, value: Any) -> None:
        self._owner.track_data(f"{tag} ({self._uid})", value)


class AgentLearners:
    """Mixin of a multi-agent algorithm made of one learner per agent id; the backend sets ``learner_class``."""

    #: the backend's single-agent algorithm with ``AgentLearnerMixin`` (e.g. a PPO subclass)
    learner_class: Any = None

    def __init__(self, possible_agents: Sequence[str], models: Mapping[str, Mapping[str, Any]],
                 memories: Optional[Mapping[str, Any]] = None, observation_spaces: Optional[Mapping[str, Any]] = None,
                 action_spaces: Optional[Mapping[str, Any]] = None, device: Any = None,
                 cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg)
        for name, value in (("models", models), ("observation_spaces", observation_spaces),
                            ("action_spaces", action_spaces)):
            missing = [uid for uid in self.possible_agents if not isinstance(value, Mapping) or uid not in value]
            if missing:
                raise ValueError(f"Invalid `{name}`: expected a dict with an entry for every agent of "
                                 f"{self.possible_agents}. Missing: {missing}")
        self.learners = {uid: self._build_learner(uid) for uid in self.possible_agents}
        self.policies = {uid: self.models[uid].get("policy") for uid in self.possible_agents}
        self.values = {uid: self.models[uid].get("value") for uid in self.possible_agents}
        self._sync_checkpoint_modules()

    # ---- learners ------------------------------------------------------------------------------------------------

    def _learner_config(self, uid: str) -> dict[str, Any]:
        """The agent's own config: its per-agent values, the team's global values, and no data layer of its own."""
        keys = [key for key in self.cfg if key in self.learner_class.default_config
                and key not in self.ignored_config_keys]  # the owner warned about ignored keys already
        cfg = {key: self.cfg[key] if key in GLOBAL_KEYS else self._as_dict(self.cfg[key], key)[uid] for key in keys}
        directory, name = os.path.split(self.experiment_dir)
        cfg["experiment"] = {"directory": directory, "experiment_name": name, "write_interval": 0,
                             "checkpoint_interval": 0}
        return cfg

    def _learner_models(self, uid: str) -> dict[str, Any]:
        return dict(self.models[uid])

    def _learner_observation_space(self, uid: str) -> Any:
        return self.observation_spaces[uid]

    def _build_learner(self, uid: str) -> Any:
        try:
            learner = self.learner_class(models=self._learner_models(uid), memory=self.memories.get(uid),
                                         observation_space=self._learner_observation_space(uid),
                                         action_space=self.action_spaces[uid], device=self.device,
                                         cfg=self._learner_config(uid))
        except InvalidConfigValueError as e:
            raise InvalidConfigValueError(f"{e} (agent {uid!r})") from None
        learner.attach_to_owner(self, uid)
        return learner

    def _learner_modules(self, uid: str) -> dict[str, Any]:
        """The checkpoint modules of agent ``uid``: its learner's (policy, value, optimizers, preprocessors)."""
        return dict(self.learners[uid].checkpoint_modules)

    def _sync_checkpoint_modules(self) -> None:
        """Refresh ``checkpoint_modules[uid]`` from the learners (JAX optimizers are new objects after each update)."""
        for uid in self.possible_agents:
            self.checkpoint_modules[uid].update(self._learner_modules(uid))

    # ---- lifecycle -----------------------------------------------------------------------------------------------

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """The team's data layer, then each learner (its memory tensors)."""
        super().init(trainer_cfg=trainer_cfg)
        for learner in self.learners.values():
            learner.init(trainer_cfg=trainer_cfg)

    def set_running_mode(self, mode: str) -> None:
        super().set_running_mode(mode)
        for learner in self.learners.values():
            learner.set_running_mode(mode)

    # ---- interaction ---------------------------------------------------------------------------------------------

    def _policy_states(self, uid: str, states: Any) -> Any:
        return states

    def act(self, states: Mapping[str, Any], timestep: int, timesteps: int) -> tuple[dict, dict, dict]:
        """Each agent acts on its own observation: ``({uid: actions}, {uid: log_prob}, {uid: outputs})``."""
        results = {uid: self.learners[uid].act(self._policy_states(uid, s), timestep, timesteps)
                   for uid, s in states.items()}
        return tuple({uid: result[i] for uid, result in results.items()} for i in range(3))

    def _learner_states(self, uid: str, states: Mapping[str, Any], next_states: Mapping[str, Any],
                        infos: Any) -> tuple[Any, Any]:
        return states[uid], next_states[uid]

    def record_transition(self, states: Mapping[str, Any], actions: Mapping[str, Any], rewards: Mapping[str, Any],
                          next_states: Mapping[str, Any], terminated: Mapping[str, Any], truncated: Mapping[str, Any],
                          infos: Any, timestep: int, timesteps: int) -> None:
        """Team statistics, then each agent in the step stores its transition in its own memory."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep,
                                  timesteps)
        for uid in rewards:
            uid_states, uid_next_states = self._learner_states(uid, states, next_states, infos)
            self.learners[uid].record_transition(uid_states, actions[uid], rewards[uid], uid_next_states,
                                                 terminated[uid], truncated[uid], infos, timestep, timesteps)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Each learner updates (one after the other) when its rollout is complete; then the team's data layer."""
        for learner in self.learners.values():
            learner.post_interaction(timestep, timesteps)
        self._sync_checkpoint_modules()
        super().post_interaction(timestep, timesteps)

    # ---- checkpoints and resume ----------------------------------------------------------------------------------

    def _module_states(self) -> dict[str, Any]:
        self._sync_checkpoint_modules()
        return super()._module_states()

    def load(self, path: str) -> None:
        self._sync_checkpoint_modules()
        super().load(path)

    def _replace_agent_module(self, uid: str, name: str, old: Any, new: Any) -> None:
        learner = self.learners[uid]
        if name in learner.checkpoint_modules:
            learner._replace_module(name, old, new)
        else:
            super()._replace_agent_module(uid, name, old, new)

    def _algorithm_state(self) -> dict[str, Any]:
        return {uid: {"algorithm": learner._algorithm_state(), "rng": learner._backend_rng_state()}
                for uid, learner in self.learners.items()}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        for uid, learner in self.learners.items():
            entry = state.get(uid) or {}
            learner._restore_algorithm_state(entry.get("algorithm") or {})
            learner._restore_backend_rng_state(entry.get("rng") or {})
