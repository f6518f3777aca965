"""Recurrent (RNN) variants of the agents, backend-free: which states exist, where they are stored and which model
gets which (skrl-api-agents.md section 10). ``RecurrentAgentMixin``: PPO, A2C, RPO and TRPO (with
``RecurrentTRPOMixin``); ``RecurrentOffPolicyMixin``: SAC, TD3 and DDPG (only the policy has states there; the
update feeds them to every model, see its docstring).

A recurrent model says so in its specification: ``model.get_specification()`` returns
``{"rnn": {"sequence_length": L, "sizes": [(num_layers, num_envs, hidden), ...]}}``, one tuple per state (an LSTM
has two). ``L`` (default 1) is read from the policy. The agent passes a model its states in ``inputs["rnn"]`` (a
list of ``(num_layers, batch, hidden)`` arrays) and reads the next ones from ``outputs["rnn"]``. In the update
phase it also passes ``inputs["terminated"]`` (``terminated | truncated``, ``(batch, 1)``): the rows are
sequences of ``L`` consecutive steps of one env, every row has its stored state, and a model takes the stored state
of each sequence's first row, then resets its hidden state after a row whose episode ended.

``RNNLayout`` is that bookkeeping, written once; the backend mixins (``skrl.torch.rnn``, ``skrl.jax.rnn``) hold
the arrays. A policy and value model that are one object (a shared model) share the policy's states; a value model
without a specification has no states (it gets ``inputs["rnn"] == []``, as in skrl 1.4.3).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Sequence

from skrl._logging import logger
from skrl.common.errors import InvalidConfigValueError
from skrl.common.memory_core import split_bounds

__all__ = ["RNNLayout", "RecurrentAgentMixin", "RecurrentOffPolicyMixin", "RecurrentTRPOMixin", "rnn_specification"]

#: the roles of the on-policy agents' models, in the order their states are stored and sampled
ROLES = ("policy", "value")


def rnn_specification(model: Any) -> Optional[dict]:
    """The ``"rnn"`` entry of ``model.get_specification()`` (None: the model has no recurrent states)."""
    if model is None or not callable(getattr(model, "get_specification", None)):
        return None
    specification = model.get_specification() or {}
    rnn = specification.get("rnn")
    if rnn is None:
        return None
    if not isinstance(rnn, dict):
        raise InvalidConfigValueError(f"Invalid model specification: expected spec['rnn'] to be a dict with "
                                      f"'sequence_length' and 'sizes'. Received: {rnn!r}")
    return rnn


def _sizes(rnn: Optional[dict], role: str) -> tuple[tuple[int, int, int], ...]:
    sizes = [] if rnn is None else rnn.get("sizes", [])
    checked = []
    for size in sizes:
        size = tuple(size)
        if len(size) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
            raise InvalidConfigValueError(f"Invalid RNN state size of the {role} model: expected "
                                          f"(num_layers, num_envs, hidden_size), 3 positive ints. Received: {size!r}")
        checked.append(size)
    return tuple(checked)


@dataclasses.dataclass(frozen=True)
class RNNLayout:
    """The recurrent states of an on-policy agent's ``policy`` and ``value`` models.

    Attributes:
        sequence_length: ``L``, the steps per training sequence (the policy's; default 1).
        sizes: ``{role: ((num_layers, num_envs, hidden), ...)}`` of each role with states of its own (the value of
            a shared model has none: it reuses the policy's).
        shared: the value model is the policy model.
    """

    sequence_length: int
    sizes: dict
    shared: bool = False

    @classmethod
    def from_models(cls, policy: Any, value: Any) -> Optional["RNNLayout"]:
        """The layout of ``policy`` and ``value``, or None when neither has RNN states (the agent is then its
        non-recurrent base, exactly)."""
        policy_rnn = rnn_specification(policy)
        shared = value is not None and value is policy
        value_rnn = None if shared else rnn_specification(value)
        sizes = {"policy": _sizes(policy_rnn, "policy"), "value": _sizes(value_rnn, "value")}
        if not sizes["policy"] and not sizes["value"]:
            return None
        length = 1 if policy_rnn is None else policy_rnn.get("sequence_length", 1)
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise InvalidConfigValueError(f"Invalid `sequence_length` of the policy's RNN specification: expected an "
                                          f"int >= 1. Received: sequence_length={length!r}")
        return cls(length, sizes, shared)

    # ---- memory -------------------------------------------------------------------------------------------------

    def stored_names(self, role: str) -> list[str]:
        """Memory tensor names of ``role``'s own states: ``rnn_policy_{i}`` / ``rnn_value_{i}``."""
        return [f"rnn_{role}_{i}" for i in range(len(self.sizes[role]))]

    @property
    def memory_names(self) -> list[str]:
        """Every stored state's memory name, policy first (sampled after the data names)."""
        return [name for role in ROLES for name in self.stored_names(role)]

    def memory_tensors(self) -> list[tuple[str, tuple[int, int]]]:
        """``(name, (num_layers, hidden))`` of each memory tensor (float32, ``keep_dimensions=True``): one row holds
        an env's state before its step, as ``(num_layers, hidden)``."""
        return [(name, (size[0], size[2])) for role in ROLES
                for name, size in zip(self.stored_names(role), self.sizes[role])]

    # ---- which states go to which model -------------------------------------------------------------------------

    def source(self, role: str) -> str:
        """Whose states ``role`` gets: its own, or the policy's for the value of a shared model."""
        return "policy" if role == "value" and self.shared else role

    def split_batch(self, rnn: Sequence[Any]) -> dict[str, list]:
        """``{role: [states fed to role]}`` from the sampled ``rnn`` arrays (in ``memory_names`` order)."""
        rnn = list(rnn)
        own = {"policy": rnn[:len(self.sizes["policy"])], "value": rnn[len(self.sizes["policy"]):]}
        return {role: own[self.source(role)] for role in ROLES}

    def returned_states(self, outputs: Any, role: str) -> list:
        """The next states in the outputs of a ``role`` call (checked) when ``role`` has states of its own, else []."""
        count = len(self.sizes[role])
        if not count:
            return []
        states = outputs.get("rnn") if hasattr(outputs, "get") else None
        if not isinstance(states, (list, tuple)) or len(states) != count:
            raise ValueError(f"The {role} model's specification declares {count} RNN state(s): its outputs must hold "
                             f"the next ones as outputs['rnn'] (a list of {count}). Received: {states!r:.200}")
        return list(states)

    def update_inputs(self, rnn: Sequence[Any], dones: Any) -> dict[str, dict]:
        """``{role: {"rnn": [...], "terminated": dones}}``: the extra inputs of each model call for one mini-batch.

        ``rnn`` holds the mini-batch's stored states in ``memory_names`` order, already transposed to
        ``(num_layers, batch, hidden)``; ``dones`` is ``terminated | truncated`` ``(batch, 1)``.
        """
        return {role: {"rnn": states, "terminated": dones} for role, states in self.split_batch(rnn).items()}

    # ---- checks -------------------------------------------------------------------------------------------------

    def check_num_envs(self, num_envs: int) -> None:
        """Every state's ``num_envs`` must be the memory's."""
        for role in ROLES:
            for size in self.sizes[role]:
                if size[1] != num_envs:
                    raise InvalidConfigValueError(
                        f"Invalid RNN state size of the {role} model: the memory has {num_envs} environments but the "
                        f"specification's size is {size} (num_layers, num_envs, hidden_size)")

    def check_memory(self, memory_size: int, num_envs: int, mini_batches: int) -> None:
        """Each mini-batch must hold whole sequences (a model reshapes its rows to ``(-1, L)``); sequences should
        not straddle two envs' rows (``memory_size`` a multiple of ``L``)."""
        length = self.sequence_length
        self.check_num_envs(num_envs)
        if length == 1:
            return
        if memory_size % length:
            logger.warning(f"The memory size ({memory_size}) is not a multiple of the RNN sequence length ({length}): "
                           "some training sequences hold the last steps of one env and the first of the next")
        total = memory_size * num_envs
        bounds = split_bounds(total, max(1, min(mini_batches, total)))
        if any((stop - start) % length for start, stop in bounds):
            raise InvalidConfigValueError(
                f"Invalid `mini_batches`: the {total} rollout rows (memory_size {memory_size} x {num_envs} envs) in "
                f"{len(bounds)} mini-batches are not whole sequences of sequence_length {length}. Use a number of "
                f"mini-batches that divides the {total // length} sequences. Received: mini_batches={mini_batches}")


class RecurrentHooks:
    """The array work a backend supplies to the recurrent mixins below."""

    def _rnn_zeros(self, size: tuple) -> Any:
        """Zero states of ``size`` ``(num_layers, num_envs, hidden)`` on the agent's device."""
        raise NotImplementedError

    def _rnn_next_states(self, final: dict, terminated: Any, truncated: Any) -> dict:
        """The ``final`` states with those of the envs whose episode ended zeroed."""
        raise NotImplementedError

    def _rnn_stored_samples(self) -> dict:
        """The initial states as ``(num_envs, num_layers, hidden)`` rows, by memory tensor name."""
        raise NotImplementedError

    def _rnn_from_host(self, state: Any) -> Any:
        """A host (NumPy) state as the backend's array on the agent's device."""
        raise NotImplementedError

    # the states the next act feeds the models are part of the resume state: a run resumed mid-episode goes on
    # with them, as the uninterrupted run does
    def _algorithm_state(self) -> dict:
        state = super()._algorithm_state()
        if getattr(self, "_rnn", None) is not None:
            state["rnn_states"] = {role: {str(i): self._to_host(s) for i, s in enumerate(states)}
                                   for role, states in self._rnn_initial_states.items() if states}
        return state

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)
        saved = state.get("rnn_states") or {}
        if getattr(self, "_rnn", None) is None or not saved:
            return
        restored = dict(self._rnn_initial_states)
        for role, states in saved.items():
            if role in restored and len(states) == len(restored[role]):
                restored[role] = [self._rnn_from_host(states[str(i)]) for i in range(len(states))]
        self._rnn_initial_states = restored
        self._rnn_final_states = {role: list(states) for role, states in restored.items()}


class RecurrentAgentMixin(RecurrentHooks):
    """Turns an on-policy agent of the PPO family (PPO, A2C, RPO, with their ``PPOSchedule``) into its RNN variant.

    Put before the agent class (``class PPO_RNN(RecurrentMixin, PPO)``, where the backend's ``RecurrentMixin``
    subclasses this one). Without recurrent models (``_rnn is None``) every method is the agent's own.

    State: ``_rnn_initial_states`` (``{role: [state, ...]}``, the states the next ``act`` feeds the models, each
    ``(num_layers, num_envs, hidden)``) and ``_rnn_final_states`` (what the last ``act`` returned). The backend
    supplies ``_rnn_zeros(size)``, ``_rnn_next_states(final, terminated, truncated)`` (the final states with those
    of finished envs zeroed) and ``_rnn_stored_samples()`` (the initial states as ``(num_envs, num_layers, hidden)``
    rows, by memory name).
    """

    _rnn: Optional[RNNLayout] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rnn = RNNLayout.from_models(self.policy, self.value)
        self._rnn_initial_states: dict[str, list] = {role: [] for role in ROLES}
        if self._rnn is not None:
            self._rnn_initial_states = {role: [self._rnn_zeros(size) for size in self._rnn.sizes[role]]
                                        for role in ROLES}
        self._rnn_final_states: dict[str, list] = {role: list(states) for role, states in self._rnn_initial_states.items()}

    @property
    def _rnn_sequence_length(self) -> int:
        return 1 if self._rnn is None else self._rnn.sequence_length

    def _rnn_states(self, role: str) -> list:
        """The states the next rollout call of ``role`` gets (a shared value model gets the policy's)."""
        return self._rnn_initial_states[self._rnn.source(role)]

    def _create_memory_tensors(self) -> None:
        super()._create_memory_tensors()
        if self._rnn is None or self.memory is None:
            return
        self._rnn.check_memory(self.memory.memory_size, self.memory.num_envs, self._mini_batches)
        for name, size in self._rnn.memory_tensors():
            self.memory.create_tensor(name=name, size=size, dtype=self._float_dtype, keep_dimensions=True)

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """The agent's transition (its rows with the step's initial states), then the next initial states: the
        final ones, zeroed for the envs whose episode ended (in training and in evaluation)."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep,
                                  timesteps)
        if self._rnn is not None:
            self._rnn_initial_states = self._rnn_next_states(self._rnn_final_states, terminated, truncated)

    def _ppo_store(self, **samples: Any) -> None:
        if self._rnn is not None:
            samples.update(self._rnn_stored_samples())
        super()._ppo_store(**samples)


class RecurrentTRPOMixin:
    """TRPO's update with recurrent models (before the backend's ``RecurrentMixin`` and TRPO in the bases): the
    policy step gets the whole rollout, the value steps ``mini_batches`` contiguous parts of it, ordered by env in
    sequences of ``L`` steps (``sample_all(..., sequence_length=L)``); each step's model calls (the surrogate and KL
    ones too) get the stored states of their role and ``terminated | truncated``. The backend supplies
    ``_rnn_swap(state)`` (rows ``(rows, num_layers, hidden)`` to ``(num_layers, rows, hidden)``)."""

    def _rnn_names(self, names: Sequence[str]) -> list:
        return [*names, "terminated", "truncated", *self._rnn.memory_names]

    def _trpo_policy_batch(self) -> list:
        if self._rnn is None:
            return super()._trpo_policy_batch()
        return self.memory.sample_all(self._rnn_names(self._policy_tensors), sequence_length=self._rnn.sequence_length)[0]

    def _value_minibatches(self) -> list:
        if self._rnn is None:
            return super()._value_minibatches()
        parts = max(1, min(self._mini_batches, len(self.memory)))
        return self.memory.sample_all(self._rnn_names(self._value_tensors), mini_batches=parts,
                                      sequence_length=self._rnn.sequence_length)

    def _trpo_inputs(self, extra: Any, role: str) -> tuple:
        if self._rnn is None:
            return super()._trpo_inputs(extra, role)
        terminated, truncated, *states = extra
        return (self._rnn.update_inputs([self._rnn_swap(state) for state in states], terminated | truncated)[role],)

    def _rnn_swap(self, state: Any) -> Any:
        raise NotImplementedError


class RecurrentOffPolicyMixin(RecurrentHooks):
    """Turns an off-policy actor-critic agent (SAC, TD3, DDPG, with their ``OffPolicySchedule``) into its RNN variant
    (skrl-api-agents.md section 10). Put before the agent class; the backend's mixin subclasses this one.

    Only the policy has states (``RNNLayout.from_models(policy, None)``): ``act`` feeds the policy its states
    (``_act_inputs()``, a backend hook the agents merge into the policy's inputs) and keeps those it returns; each
    transition stores the step's initial states (``rnn_policy_{i}``); finished envs' states are zeroed. In the update
    the batches are ``batch_size`` sequences of ``L`` steps (``memory.sample(..., sequence_length=L)``) and the
    stored states of the same rows (``sample_by_index(..., get_sampling_indexes())``); the policy's states and
    ``terminated | truncated`` go to the policy, the target policy, every critic and every target critic. During
    ``random_timesteps`` the policy still runs (its actions are dropped) so that its states follow the episode.
    Without a recurrent policy (``_rnn is None``) every method is the agent's own.

    The backend supplies ``_rnn_zeros(size)``, ``_rnn_next_states(final, terminated, truncated)`` and
    ``_rnn_stored_samples()`` (as for ``RecurrentAgentMixin``).
    """

    _rnn: Optional[RNNLayout] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rnn = RNNLayout.from_models(self.policy, None)
        self._rnn_initial_states: dict[str, list] = {role: [] for role in ROLES}
        if self._rnn is not None:
            self._rnn_initial_states["policy"] = [self._rnn_zeros(size) for size in self._rnn.sizes["policy"]]
        self._rnn_final_states: dict[str, list] = {role: list(states) for role, states in self._rnn_initial_states.items()}

    @property
    def _rnn_sequence_length(self) -> int:
        return 1 if self._rnn is None else self._rnn.sequence_length

    def init(self, trainer_cfg: Any = None) -> None:
        super().init(trainer_cfg=trainer_cfg)
        if self._rnn is None or self.memory is None:
            return
        self._rnn.check_num_envs(self.memory.num_envs)
        for name, size in self._rnn.memory_tensors():
            self.memory.create_tensor(name=name, size=size, dtype=self._float_dtype, keep_dimensions=True)

    def _act_inputs(self) -> dict:
        if self._rnn is None:
            return super()._act_inputs()
        return {"rnn": self._rnn_initial_states["policy"]}

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """The agent's ``act`` with the policy's states; keeps the states the policy returns."""
        if self._rnn is None:
            return super().act(states, timestep, timesteps)
        if timestep < self._off.random_timesteps:  # random actions, but the policy's states follow the episode
            outputs = self._policy_outputs(states)
            self._rnn_final_states["policy"] = self._rnn.returned_states(outputs, "policy")
            return self._random_actions(states)
        actions, log_prob, outputs = super().act(states, timestep, timesteps)
        self._rnn_final_states["policy"] = self._rnn.returned_states(outputs, "policy")
        return actions, log_prob, outputs

    def _transition_samples(self) -> dict:
        if self._rnn is None:
            return super()._transition_samples()
        return self._rnn_stored_samples()

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """The agent's transition (with the step's initial states), then the next initial states: the final ones,
        zeroed for the envs whose episode ended (in training and in evaluation)."""
        super().record_transition(states, actions, rewards, next_states, terminated, truncated, infos, timestep,
                                  timesteps)
        if self._rnn is not None:
            self._rnn_initial_states = self._rnn_next_states(self._rnn_final_states, terminated, truncated)

    def _should_update(self, timestep: int) -> bool:
        """Also wait until the memory holds one whole sequence of steps (with ``learning_starts`` below the sequence
        length there is nothing to sample yet)."""
        if self._rnn is None or self.memory is None:
            return super()._should_update(timestep)
        whole_sequence = len(self.memory) > (self._rnn.sequence_length - 1) * self.memory.num_envs
        return whole_sequence and super()._should_update(timestep)

    def _rnn_sample(self, batch_size: int) -> tuple[list, list]:
        """``(data, states)``: ``batch_size`` sequences of ``L`` steps of the replay tensors, and the stored policy
        states of the same rows, ``(rows, num_layers, hidden)`` each."""
        data = self.memory.sample(self._tensors_names, batch_size, sequence_length=self._rnn.sequence_length)[0]
        states = self.memory.sample_by_index(self._rnn.memory_names, indexes=self.memory.get_sampling_indexes())[0]
        return data, states
