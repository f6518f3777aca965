"""The multi-agent core, written once for both backends: agent ids, per-agent config values, nested checkpoints.

skrl 1.4.3's ``MultiAgent`` holds ``{uid: {role: model}}`` models, ``{uid: memory}`` memories, ``{uid: space}``
spaces and ``{uid: {module name: module}}`` checkpoint modules. ``MultiAgentCore`` reuses the whole data layer of
``AgentCore`` (run directory, tracking, checkpoint files, best model, save/load, exact resume) and changes only
what is nested per agent:

* module states are ``{uid: {name: state}}`` (grouped files) or ``<uid>_<name>_<t>`` files (stored separately);
* loading compares and loads each agent's modules and lists every mismatch as ``[uid] name: ...``;
* episode statistics are those of the team: the sum of the agents' rewards, the episode ending when every agent
  still in it is done (skrl 1.4.3 took the first agent's signals, which miscounts when that agent leaves early).
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Mapping, Optional, Sequence

from skrl._logging import logger
from skrl.common.agent_core import AgentCore
from skrl.common.errors import InvalidConfigValueError


def per_agent_values(value: Any, possible_agents: Sequence[str], name: str = "value") -> dict[str, Any]:
    """``{uid: value}`` for every agent: a dict keyed by every agent id gives one value each, anything else is shared.

    Example: with agents ``["a", "b"]``, ``{"a": 1e-3, "b": 3e-4}`` is kept and ``1e-3`` gives ``{"a": 1e-3, "b": 1e-3}``;
    a dict that names only some agents (``{"a": 1e-3}``) is an error rather than a value shared by all.
    """
    if isinstance(value, Mapping) and value:
        named = [key for key in value if key in possible_agents]
        if len(named) == len(value) == len(possible_agents):
            return {uid: value[uid] for uid in possible_agents}
        if named:
            missing = [uid for uid in possible_agents if uid not in value]
            other = [key for key in value if key not in possible_agents]
            raise InvalidConfigValueError(
                f"Invalid `{name}`: a per-agent dict must give a value for every agent of {list(possible_agents)} "
                f"and nothing else. Missing agents: {missing}; other keys: {other}. Received: {name}={value!r}")
    return {uid: value for uid in possible_agents}


class AgentMemories:
    """The agents' memories seen as one memory by the agent core, for checkpoints that hold their contents."""

    def __init__(self, memories: Mapping[str, Any]) -> None:
        self.memories = {uid: memory for uid, memory in memories.items() if memory is not None}

    @property
    def tensors(self) -> bool:
        return any(memory.tensors for memory in self.memories.values())

    def attach_to_experiment(self, experiment_dir: str) -> None:
        for memory in self.memories.values():
            memory.attach_to_experiment(experiment_dir)

    def checkpoint_state(self) -> dict[str, Any]:
        return {uid: memory.checkpoint_state() for uid, memory in self.memories.items() if memory.tensors}

    def check_checkpoint_state(self, state: Mapping[str, Any], path: str) -> list[str]:
        unknown = [f"{uid}: the agent has no memory for it" for uid in state if uid not in self.memories]
        return unknown + [f"{uid}: {line}" for uid, entry in state.items() if uid in self.memories
                          for line in self.memories[uid].check_checkpoint_state(entry, path)]

    def restore_checkpoint_state(self, state: Mapping[str, Any], path: str) -> None:
        for uid, entry in state.items():
            self.memories[uid].restore_checkpoint_state(entry, path)


class MultiAgentCore(AgentCore):
    """Base of every multi-agent algorithm: agents' models, memories and spaces by agent id, and the data layer."""

    def __init__(self, possible_agents: Sequence[str], models: Mapping[str, Mapping[str, Any]],
                 memories: Optional[Mapping[str, Any]] = None, observation_spaces: Optional[Mapping[str, Any]] = None,
                 action_spaces: Optional[Mapping[str, Any]] = None, device: Any = None,
                 cfg: Optional[Mapping[str, Any]] = None) -> None:
        if isinstance(possible_agents, str) or not possible_agents:
            raise ValueError(f"Invalid `possible_agents`: expected a non-empty sequence of agent ids. "
                             f"Received: possible_agents={possible_agents!r}")
        self.possible_agents = list(possible_agents)
        super().__init__(models={}, memory=None, observation_space=observation_spaces, action_space=action_spaces,
                         device=device, cfg=cfg)
        self.num_agents = len(self.possible_agents)
        models = models or {}
        self.models = {uid: {role: m for role, m in (models.get(uid) or {}).items() if m is not None}
                       for uid in self.possible_agents}
        self.memories = dict(memories or {})
        self.memory = AgentMemories(self.memories) if self.memories else None
        self.observation_spaces = observation_spaces
        self.action_spaces = action_spaces
        self.checkpoint_modules: dict[str, Any] = {uid: {} for uid in self.possible_agents}

    def _as_dict(self, value: Any, name: str = "value") -> dict[str, Any]:
        """One value per agent id (see ``per_agent_values``), as skrl 1.4.3's ``MultiAgent._as_dict``."""
        return per_agent_values(value, self.possible_agents, name)

    def __str__(self) -> str:
        lines = [f"Multi-agent: {type(self).__name__}", f"  |-- experiment_dir: {self.experiment_dir}"]
        lines += [f"  |-- {uid}.{role}: {type(model).__name__}" for uid, roles in self.models.items()
                  for role, model in roles.items()]
        return "\n".join(lines)

    def _distinct_models(self) -> list:
        return list({id(m): m for roles in self.models.values() for m in roles.values()}.values())

    def set_mode(self, mode: str) -> None:
        """Put every agent's models in ``"train"`` or ``"eval"`` mode."""
        for model in self._distinct_models():
            model.set_mode(mode)

    def _broadcast_models(self) -> None:
        for model in self._distinct_models():
            model.broadcast_parameters(0)

    def migrate(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError(f"{type(self).__name__}: migrating external checkpoints is only supported for "
                                  "single agents; migrate each model with `Model.migrate` instead")

    # ---- episode statistics of the team ------------------------------------------------------------------------

    def record_transition(self, states: Any, actions: Any, rewards: Mapping[str, Any], next_states: Any,
                          terminated: Mapping[str, Any], truncated: Mapping[str, Any], infos: Any, timestep: int,
                          timesteps: int) -> None:
        """Team episode statistics: the summed rewards of the agents in the step; the episode ends when all are done."""
        if not rewards:
            return
        team_reward = functools.reduce(operator.add, rewards.values())
        done = functools.reduce(operator.and_, [terminated[uid] | truncated[uid] for uid in rewards])
        super().record_transition(states, actions, team_reward, next_states, done, done, infos, timestep, timesteps)

    # ---- checkpoints nested per agent --------------------------------------------------------------------------

    def _is_agent_group(self, name: str, module: Any) -> bool:
        return name in self.possible_agents and isinstance(module, Mapping)

    def _module_states(self) -> dict[str, Any]:
        return {uid: {name: self._module_state(m) for name, m in modules.items()}
                for uid, modules in self.checkpoint_modules.items()}

    def _write_group(self, states: Mapping[str, Any], tag: str, best: bool) -> list[str]:
        """Stored separately, agent ``uid``'s module ``name`` goes to ``<uid>_<name>_<tag>`` (``best_<uid>_<name>``)."""
        if self.checkpoint_store_separately:
            flat: dict[str, Any] = {}
            for key, value in states.items():
                if key in self.possible_agents and isinstance(value, Mapping):
                    flat.update({f"{key}_{name}": state for name, state in value.items()})
                else:
                    flat[key] = value
            states = flat
        return super()._write_group(states, tag, best)

    def _decode_state(self, name: str, module: Any, state: Any) -> Any:
        """An agent's entry of the checkpoint, decoded module by module; modules the agent lacks are skipped."""
        if not self._is_agent_group(name, module):
            return super()._decode_state(name, module, state)
        if not isinstance(state, Mapping):
            return state
        decoded = {}
        for inner, inner_state in state.items():
            if module.get(inner) is None:
                logger.warning(f"Skipping module {name}:{inner} of the checkpoint: the agent doesn't have such an instance")
                continue
            decoded[inner] = super()._decode_state(inner, module[inner], inner_state)
        missing = [inner for inner, m in module.items() if m is not None and inner not in state]
        if missing:
            logger.warning(f"The checkpoint has no state for {name}: {', '.join(missing)} (left unchanged)")
        return decoded

    def _state_differences(self, module: Any, state: Any) -> list[str]:
        if not isinstance(module, Mapping):
            return super()._state_differences(module, state)
        if not isinstance(state, Mapping):
            return [f"expected a dict of module states, got {type(state).__name__}"]
        return [f"{inner}: {line}" for inner, inner_state in state.items()
                for line in super(MultiAgentCore, self)._state_differences(module[inner], inner_state)]

    def _load_module_state(self, module: Any, state: Any) -> Any:
        if not isinstance(module, Mapping):
            return super()._load_module_state(module, state)
        return {**module, **{inner: super(MultiAgentCore, self)._load_module_state(module[inner], inner_state)
                             for inner, inner_state in state.items()}}

    def _replace_module(self, name: str, old: Any, new: Any) -> None:
        if not self._is_agent_group(name, old):
            return super()._replace_module(name, old, new)
        for inner, module in new.items():
            previous = old.get(inner)
            if module is not None and module is not previous:
                old[inner] = module
                self._replace_agent_module(name, inner, previous, module)

    def _replace_agent_module(self, uid: str, name: str, old: Any, new: Any) -> None:
        """Rebind the references to an immutable module (a JAX optimizer) replaced by loading; algorithms extend it."""
        for attr, value in list(vars(self).items()):
            if value is old:
                setattr(self, attr, new)
