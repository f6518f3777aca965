"""The RNN variants of PPO, A2C and RPO on JAX: ``RecurrentMixin`` (the array side of ``skrl.common.rnn``).

A recurrent JAX model is a Flax module called through the pure ``act(inputs, role, params)``: it takes its states
in ``inputs["rnn"]`` (a list of ``(num_layers, batch, hidden)`` arrays; missing when its parameters are
initialised), ``inputs.get("terminated")`` (given in the update only: the rows are then sequences of ``L`` steps,
see ``skrl.common.rnn``) and returns its new states in ``outputs["rnn"]``.

* Rollout: one jitted call per step acts, evaluates the value and returns the models' next states
  (``RecurrentFunctions.recurrent_act``); one more per step zeroes the states of finished envs. The states stay on
  the device.
* Update: PPO's one jitted update (``PPOFunctions.update``), whose hooks here order the rows by env (sequences
  of ``L`` steps, as ``memory.sample_all(..., sequence_length=L)``), keep the mini-batches contiguous and
  unshuffled, and give every model call its mini-batch's stored states and dones.

Without recurrent models the agent is its base agent, exactly. ``JittedTrainer`` does not train RNN variants.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.rnn import ROLES, RecurrentAgentMixin, RecurrentTRPOMixin, RNNLayout
from skrl.jax.a2c import A2C, A2CFunctions
from skrl.jax.ppo import PPO
from skrl.jax.ppo_functions import PPOFunctions, preprocess
from skrl.jax.rpo import RPO
from skrl.jax.trpo import TRPO

__all__ = ["A2C_RNN", "PPO_RNN", "RPO_RNN", "RecurrentFunctions", "RecurrentMixin", "RecurrentStates", "TRPO_RNN"]

#: rollout entry (``_rollout_arrays``) with the value model's states after the last step, for the last values
LAST_VALUE_STATES = "rnn_last_value"
#: flat mini-batch entry with ``terminated | truncated``
DONES = "rnn_dones"


class RecurrentFunctions:
    """PPO's pure functions with recurrent models (mixed before a ``PPOFunctions`` dataclass that has the field
    ``rnn: Optional[RNNLayout]``; None gives the base functions exactly)."""

    rnn: Optional[RNNLayout]

    @property
    def shuffle(self) -> bool:  # type: ignore[override]
        """Sequences stay whole: contiguous mini-batches of the env-ordered rows (as ``sample_all``)."""
        return False if self.rnn is not None else super().shuffle

    def recurrent_act(self, params: tuple, stats: tuple, states: jax.Array, rnn: dict, key: jax.Array,
                      taken_actions: Optional[jax.Array] = None) -> tuple:
        """Act with the models' states ``rnn`` (``{role: [...]}``, the value of a shared model reads the policy's).

        Returns ``(actions, log_prob, outputs, values, final_states, stored)``: ``final_states`` as ``rnn`` (what
        the models returned), ``stored`` the input states as memory rows ``{name: (num_envs, num_layers, hidden)}``.
        """
        layout = self.rnn
        inputs = self.model_inputs(preprocess(self.state_spec, stats[0], states))
        policy_inputs = {**inputs, "rnn": rnn[layout.source("policy")], "key": key}
        if taken_actions is not None:
            policy_inputs["taken_actions"] = taken_actions
        actions, log_prob, outputs = self.policy.act(policy_inputs, role="policy", params=params[0])
        final = {"policy": layout.returned_states(outputs, "policy"), "value": []}
        values = None
        if self.value is not None:  # (an agent built to evaluate a policy may have no value model)
            values, _, value_outputs = self.value.act({**inputs, "rnn": rnn[layout.source("value")]}, role="value",
                                                      params=params[1])
            values = preprocess(self.value_spec, stats[1], values, inverse=True)
            final["value"] = layout.returned_states(value_outputs, "value")
        stored = {name: jnp.swapaxes(state, 0, 1) for role in ROLES
                  for name, state in zip(layout.stored_names(role), rnn[role])}
        return actions, log_prob, outputs, values, final, stored

    def role_inputs(self, role: str, batch: dict) -> dict:
        if self.rnn is None:
            return super().role_inputs(role, batch)
        states = [jnp.swapaxes(batch[name], 0, 1) for name in self.rnn.memory_names]
        return self.rnn.update_inputs(states, batch[DONES])[role]

    def last_value_inputs(self, rollout: dict) -> dict:
        if self.rnn is None:
            return super().last_value_inputs(rollout)
        return {"rnn": list(rollout[LAST_VALUE_STATES])}

    def flatten_rollout(self, batch: dict, rollout: dict, rows: int) -> dict:
        """Recurrent: rows ordered by env (row ``e * rollouts + t``), with the stored states and the dones."""
        if self.rnn is None:
            return super().flatten_rollout(batch, rollout, rows)
        data = {**batch, DONES: jnp.logical_or(rollout["terminated"], rollout["truncated"]),
                **{name: rollout[name] for name in self.rnn.memory_names}}
        return {name: jnp.swapaxes(x, 0, 1).reshape((rows,) + x.shape[2:]) for name, x in data.items()}


@dataclasses.dataclass(frozen=True, eq=False)
class RecurrentPPOFunctions(RecurrentFunctions, PPOFunctions):
    """``PPOFunctions`` (PPO, RPO) with recurrent models."""

    rnn: Optional[RNNLayout] = None


@dataclasses.dataclass(frozen=True, eq=False)
class RecurrentA2CFunctions(RecurrentFunctions, A2CFunctions):
    """``A2CFunctions`` with recurrent models."""

    rnn: Optional[RNNLayout] = None


def _recurrent_act_step(functions: RecurrentFunctions, params: tuple, stats: tuple, states: jax.Array, rnn: dict,
                        key: jax.Array, taken_actions: Optional[jax.Array]) -> tuple:
    key, subkey = jax.random.split(key)
    return (key, *functions.recurrent_act(params, stats, states, rnn, subkey, taken_actions))


@jax.jit
def _next_states(final: dict, terminated: Any, truncated: Any) -> dict:
    keep = jnp.logical_not(jnp.logical_or(terminated, truncated)).reshape(1, -1, 1)
    return jax.tree_util.tree_map(lambda state: jnp.where(keep, state, jnp.zeros_like(state)), final)


class RecurrentStates:
    """The JAX arrays of the recurrent states (``_rnn_zeros``, ``_rnn_next_states``: backend hooks of
    ``RecurrentAgentMixin`` and ``RecurrentOffPolicyMixin``); the states stay on the device."""

    def _rnn_zeros(self, size: tuple) -> jax.Array:
        return jax.device_put(np.zeros(size, dtype=np.float32), self.device)

    def _rnn_from_host(self, state: Any) -> jax.Array:
        return jax.device_put(np.array(state, dtype=np.float32), self.device)

    def _rnn_next_states(self, final: dict, terminated: Any, truncated: Any) -> dict:
        return _next_states(final, terminated, truncated)


class RecurrentMixin(RecurrentStates, RecurrentAgentMixin):
    """Turns a JAX agent of the PPO family into its RNN variant (see the module docstring)."""

    _rnn_stored: Optional[dict] = None  # the last act's initial states as memory rows

    def ppo_functions(self) -> PPOFunctions:
        if "functions" not in self._jitted:
            functions = super().ppo_functions()
            self._jitted["functions"] = dataclasses.replace(functions, rnn=self._rnn)
        return self._jitted["functions"]

    # ---- states --------------------------------------------------------------------------------------------------

    def _rnn_stored_samples(self) -> dict:
        return self._rnn_stored

    # ---- interaction ---------------------------------------------------------------------------------------------

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """Act (and evaluate the value) with the models' states in one jitted call; keeps the states returned."""
        if self._rnn is None:
            return super().act(states, timestep, timesteps)
        taken_actions = None
        if timestep < self._random_timesteps:
            taken_actions = self.policy.random_act({"states": states}, role="policy")[0]
        act = self._function("recurrent_act", _recurrent_act_step)
        params, stats = self._device_inputs()
        self._key, actions, log_prob, outputs, values, final, stored = act(
            params, stats, states, self._rnn_initial_states, self._key, taken_actions)
        if taken_actions is not None:
            actions = taken_actions
        if not self._jax:  # host env and NumPy memory: one transfer
            actions, log_prob, values, stored = jax.device_get((actions, log_prob, values, stored))
        self._rnn_final_states, self._rnn_stored = final, stored
        self._current_log_prob, self._current_values = log_prob, values
        return actions, log_prob, outputs

    def _values(self, states: Any) -> jax.Array:
        if self._rnn is None:
            return super()._values(states)
        values_of = self._function("values", lambda functions, *args: functions.values_of(*args))
        params, stats = self._device_inputs()
        return values_of(params[1], stats, states, {"rnn": self._rnn_states("value")})

    # ---- update --------------------------------------------------------------------------------------------------

    def _rollout_arrays(self) -> dict:
        rollout = super()._rollout_arrays()
        if self._rnn is None:
            return rollout
        extra = {name: self.memory.get_tensor_by_name(name) for name in self._rnn.memory_names}
        extra[LAST_VALUE_STATES] = self._rnn_states("value")
        return {**rollout, **jax.device_put(extra, self.device)}


class PPO_RNN(RecurrentMixin, PPO):
    """PPO with recurrent policy and/or value models (JAX): PPO's constructor, config (``PPO_DEFAULT_CONFIG``),
    checkpoints and tags.

    The model contract (specification, ``inputs["rnn"]``, ``outputs["rnn"]``, ``inputs["terminated"]`` in the
    update) is described once in ``skrl.common.rnn``. Without a recurrent model the agent is ``PPO``.
    """

    functions_class = RecurrentPPOFunctions


class A2C_RNN(RecurrentMixin, A2C):
    """A2C with recurrent policy and/or value models (JAX), as ``PPO_RNN`` is PPO's: A2C's constructor, config
    (``A2C_DEFAULT_CONFIG``), checkpoints and tags."""

    functions_class = RecurrentA2CFunctions


class RPO_RNN(RecurrentMixin, RPO):
    """RPO with recurrent policy and/or value models (JAX), as ``PPO_RNN`` is PPO's: RPO's constructor, config
    (``RPO_DEFAULT_CONFIG``), checkpoints and tags."""

    functions_class = RecurrentPPOFunctions


class TRPO_RNN(RecurrentTRPOMixin, RecurrentMixin, TRPO):
    """TRPO with recurrent policy and/or value models (JAX), as ``PPO_RNN`` is PPO's: TRPO's constructor, config
    (``TRPO_DEFAULT_CONFIG``), checkpoints and tags. The jitted policy step (surrogate, KL and line search) gets the
    whole rollout in sequences of ``L`` steps with the stored policy states and dones; the jitted value steps get
    contiguous mini-batches of those sequences with the value's states."""

    functions_class = RecurrentPPOFunctions

    def _rnn_swap(self, state: Any) -> jax.Array:
        return jnp.swapaxes(jnp.asarray(state), 0, 1)
