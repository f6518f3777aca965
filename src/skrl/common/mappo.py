"""MAPPO, backend-free: IPPO whose value models see the environment's shared (global) state.

Each agent's learner is still the backend's PPO, run on ``[observation | shared state]`` rows: its policy is
given the observation columns and its value model the shared-state columns (``ColumnSlicedModel``), so PPO's
update is reused unchanged. The agent's ``state_preprocessor`` and ``shared_state_preprocessor`` standardise the
two parts before the learner sees them. Their statistics are updated online, with each stored step, after the
step has been standardised with the statistics the policy acted with (so that the stored rows, log-probabilities
and values agree); skrl 1.4.3 updated them in the first epoch of each update instead.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from skrl.common.ippo import IPPO_DEFAULT_CONFIG, AgentLearnerMixin, AgentLearners
from skrl.common.spaces import compute_space_size


def _mappo_defaults() -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for key, value in IPPO_DEFAULT_CONFIG.items():
        defaults[key] = value
        if key == "state_preprocessor_kwargs":
            defaults["shared_state_preprocessor"] = None  # shared state preprocessor class (e.g. RunningStandardScaler)
            defaults["shared_state_preprocessor_kwargs"] = {}  # its keyword arguments
    return defaults


#: the IPPO keys plus ``shared_state_preprocessor`` (+ ``_kwargs``), one value per agent or one for all
MAPPO_DEFAULT_CONFIG: dict[str, Any] = _mappo_defaults()

SHARED_STATES_KEYS = ("shared_states", "shared_next_states")


def _identity(x: Any, *args: Any, **kwargs: Any) -> Any:
    """The preprocessor of an agent without one (accepts and ignores ``train=`` / ``inverse=``)."""
    return x


class ColumnSlicedModel:
    """A model given the columns ``[start, stop)`` of its ``states`` input, otherwise the model itself.

    Every other attribute (parameters, ``state_dict``, modes, distribution, ...) is the wrapped model's, so a
    single-agent algorithm can train it unaware of the slicing; checkpoints store the wrapped ``model``.
    """

    def __init__(self, model: Any, start: int, stop: int) -> None:
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "_columns", slice(start, stop))

    def _sliced(self, inputs: Mapping[str, Any]) -> dict:
        return {**inputs, "states": inputs["states"][..., self._columns]}

    def act(self, inputs: Mapping[str, Any], role: str = "", *args: Any, **kwargs: Any) -> Any:
        return self.model.act(self._sliced(inputs), role, *args, **kwargs)

    def random_act(self, inputs: Mapping[str, Any], role: str = "", *args: Any, **kwargs: Any) -> Any:
        return self.model.random_act(self._sliced(inputs), role, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.model, name, value)


class SharedValueLearnerMixin(AgentLearnerMixin):
    """The learner of one MAPPO agent: the value of a stored row is that of its ``[observation | shared state]``.

    The shared state of a step comes with its transition. The learner acts on rows whose shared part is the last
    shared state seen (zeros at first); the value it estimates then is kept only when that was the step's own.
    """

    #: whether the last ``act`` saw the shared state of the step being stored (set by the owner)
    _acted_with_shared_state = False

    def _ppo_values_of(self, states: Any) -> Any:
        if not self._acted_with_shared_state:
            self._current_values = None
        return super()._ppo_values_of(states)


class SharedValueLearners(AgentLearners):
    """MAPPO's additions to the per-agent learners: shared-state preprocessing and ``[observation | shared]`` rows."""

    def __init__(self, possible_agents: Sequence[str], models: Mapping[str, Mapping[str, Any]],
                 memories: Optional[Mapping[str, Any]] = None, observation_spaces: Optional[Mapping[str, Any]] = None,
                 action_spaces: Optional[Mapping[str, Any]] = None, device: Any = None,
                 cfg: Optional[Mapping[str, Any]] = None,
                 shared_observation_spaces: Optional[Mapping[str, Any]] = None) -> None:
        missing = [uid for uid in possible_agents or [] if not isinstance(shared_observation_spaces, Mapping)
                   or shared_observation_spaces.get(uid) is None]
        if missing:
            raise ValueError("Invalid `shared_observation_spaces`: MAPPO needs the shared state space of every agent "
                             f"(e.g. the wrapped env's `state_spaces`). Missing: {missing}")
        self.shared_observation_spaces = shared_observation_spaces
        self._state_preprocessor: dict[str, Any] = {}
        self._shared_state_preprocessor: dict[str, Any] = {}
        self._acting_shared_states: Any = None  # the shared state the agents act in (last seen), for their values
        super().__init__(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg)

    def _preprocessor(self, uid: str, key: str) -> Any:
        cls = self._as_dict(self.cfg[key], key)[uid]
        return cls(**self._as_dict(self.cfg[f"{key}_kwargs"], f"{key}_kwargs")[uid]) if cls else None

    def _build_learner(self, uid: str) -> Any:
        self._state_preprocessor[uid] = self._preprocessor(uid, "state_preprocessor") or _identity
        self._shared_state_preprocessor[uid] = self._preprocessor(uid, "shared_state_preprocessor") or _identity
        return super()._build_learner(uid)

    def _learner_config(self, uid: str) -> dict[str, Any]:
        return {**super()._learner_config(uid), "state_preprocessor": None, "state_preprocessor_kwargs": {}}

    def _observation_width(self, uid: str) -> int:
        return compute_space_size(self.observation_spaces[uid], occupied_size=True)

    def _learner_observation_space(self, uid: str) -> int:
        return self._observation_width(uid) + self._shared_width(uid)

    def _learner_models(self, uid: str) -> dict[str, Any]:
        width, total = self._observation_width(uid), self._learner_observation_space(uid)
        models = dict(self.models[uid])
        for role, columns in (("policy", (0, width)), ("value", (width, total))):
            if models.get(role) is not None:
                models[role] = ColumnSlicedModel(models[role], *columns)
        return models

    def _learner_modules(self, uid: str) -> dict[str, Any]:
        """skrl 1.4.3's order: models, optimizers, state, shared state and value preprocessors."""
        learner = self.learners[uid].checkpoint_modules
        modules = {name: m.model if isinstance(m, ColumnSlicedModel) else m for name, m in learner.items()
                   if name != "value_preprocessor"}
        for name, preprocessors in (("state_preprocessor", self._state_preprocessor),
                                    ("shared_state_preprocessor", self._shared_state_preprocessor)):
            if preprocessors[uid] is not _identity:
                modules[name] = preprocessors[uid]
        if "value_preprocessor" in learner:
            modules["value_preprocessor"] = learner["value_preprocessor"]
        return modules

    # ---- interaction ---------------------------------------------------------------------------------------------

    def _policy_states(self, uid: str, states: Any) -> Any:
        shared = self._acting_shared_states
        shared = None if shared is None else self._shared_state_preprocessor[uid](shared)
        return self._concatenate(self._state_preprocessor[uid](states), shared, self._shared_width(uid))

    def _shared_width(self, uid: str) -> int:
        return compute_space_size(self.shared_observation_spaces[uid], occupied_size=True)

    def _learner_states(self, uid: str, states: Mapping[str, Any], next_states: Mapping[str, Any],
                        infos: Any) -> tuple[Any, Any]:
        """``[observation | shared state]`` rows, standardised; in training, the statistics then learn the step."""
        if not isinstance(infos, Mapping) or any(key not in infos for key in SHARED_STATES_KEYS):
            raise ValueError("MAPPO needs the shared states in `infos['shared_states']` and `infos['shared_next_states']` "
                           "(the trainers set them from `env.state()`)")
        self.learners[uid]._acted_with_shared_state = infos["shared_states"] is self._acting_shared_states
        own, shared = self._state_preprocessor[uid], self._shared_state_preprocessor[uid]
        width = self._shared_width(uid)
        rows = self._concatenate(own(states[uid]), shared(infos["shared_states"]), width)
        next_rows = self._concatenate(own(next_states[uid]), shared(infos["shared_next_states"]), width)
        if self.training:
            own(states[uid], train=True)
            shared(infos["shared_states"], train=True)
        return rows, next_rows

    def record_transition(self, states: Mapping[str, Any], actions: Mapping[str, Any], rewards: Mapping[str, Any],
                          next_states: Mapping[str, Any], terminated: Mapping[str, Any], truncated: Mapping[str, Any],
                          infos: Any, timestep: int, timesteps: int) -> None:
        """IPPO's, on ``[observation | shared state]`` rows; the next step's actions then see the next shared state."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep,
                                  timesteps)
        self._acting_shared_states = infos["shared_next_states"] if rewards else None

    def _concatenate(self, observations: Any, shared_states: Optional[Any], width: int) -> Any:
        """``[observations | shared_states]`` along the last axis, as float32; None: ``width`` zero columns (backend)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _concatenate")
