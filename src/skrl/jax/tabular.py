"""Q-learning and SARSA on JAX: one jitted call per training step.

The schedule is in ``skrl.common.tabular``. The agent owns a PRNG key (restored on resume) that it passes to the
model's exploration as ``inputs["key"]``.

Fused steps (``fused_steps = True``, the default): the jitted call that updates the Q-table with a transition also
computes, with the updated table and the key the update leaves, the policy's actions for the transition's next
states (a pure function of the tables, the states and the key). The update and its key are applied at once, as
without fusing, so the table, the key and every checkpoint are always current. The next ``act`` returns the
actions computed ahead when it is the very next ``act`` call, its states equal those next states (same shape,
dtype and values) and the tables and the key are still the arrays the update left; otherwise (env reset to other
states, a checkpoint loaded, tables or key replaced, random timesteps, ...) it acts as usual. Actions, table and key
are therefore bit-identical to two calls per step (``fused_steps = False``), with one dispatch instead of two.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.tabular import Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG, TabularSchedule, table_rows, td_delta
from skrl.jax.agent_base import Agent
from skrl.jax.device_trees import commit


class _ActedAhead(NamedTuple):
    """The act computed by the last update for its next states, valid only for the unchanged tables and key."""

    states: Any  # the next states (a jax.Array, immutable; or a host copy)
    tables: tuple  # the tables the update left (compared by identity)
    key: Any  # the key the update left (compared by identity)
    key_after: Any  # the key after acting
    actions: Any
    outputs: Any


def _same_states(states: Any, ahead: Any) -> bool:
    """Whether acting on ``states`` is acting on the states acted on ahead: the same immutable array, or host arrays
    of the same shape, dtype and values."""
    if isinstance(ahead, jax.Array):
        return states is ahead
    return (isinstance(states, np.ndarray) and states.shape == ahead.shape and states.dtype == ahead.dtype
            and np.array_equal(states, ahead))


class TabularAgent(TabularSchedule, Agent):
    """Base of the JAX tabular agents. Model: ``policy`` (a ``TabularMixin`` model with ``q_table``)."""

    _float_dtype = np.float32
    _int_dtype = np.int32
    _bool_dtype = np.bool_

    #: update and act ahead in one jitted call per training step (see the module docstring); False: two calls
    fused_steps: bool = True

    def _tabular_setup(self) -> None:
        self._jax = config.jax.backend == "jax"
        self._key = commit(jax.random.fold_in(config.jax.key, 0x5441), self.device)  # the agent's own stream
        self._table_names: list[str] = []
        if self.policy is not None:
            self.policy.state_dict = commit(self.policy.state_dict.params, self.device)
            self._table_names = self.policy._table_names()
        self._act_jitted = jax.jit(self._act_pure)
        self._update_jitted = jax.jit(self._update_pure)
        self._step_jitted = jax.jit(self._step_pure)
        self._ahead: Optional[_ActedAhead] = None

    def _act_pure(self, params: Any, states: jax.Array, key: jax.Array) -> tuple:
        key, subkey = jax.random.split(key)
        actions, _, outputs = self.policy.act({"states": states, "key": subkey}, role="policy", params=params)
        return key, actions, outputs

    def _tables(self) -> dict:
        """The policy's tables as the jitted functions' ``params``: read straight from its attributes (building its
        ``state_dict`` costs more than the step's whole update)."""
        return {name: getattr(self.policy, name) for name in self._table_names}

    def _host_actions(self, actions: Any) -> Any:
        return actions if self._jax else np.asarray(actions)

    def _tabular_act(self, states: Any) -> tuple:
        ahead, self._ahead = self._ahead, None  # only the very next act may use it
        if ahead is not None and ahead.key is self._key and _same_states(states, ahead.states) \
                and all(getattr(self.policy, name) is table for name, table in zip(self._table_names, ahead.tables)):
            self._key = ahead.key_after
            return self._host_actions(ahead.actions), None, ahead.outputs
        if self.fused_steps and self.training and isinstance(states, np.ndarray):
            # the program of the training steps, without the update: one program to compile for the whole run
            no_transition = np.zeros((states.shape[0] if states.ndim else 1, 6), np.float32)
            _, _, self._key, actions, outputs = self._step_jitted(self._tables(), no_transition, self._key, states,
                                                                  False)
        else:
            self._key, actions, outputs = self._act_jitted(self._tables(), states, self._key)
        return self._host_actions(actions), None, outputs

    @staticmethod
    def _packed_transition(transition: tuple) -> np.ndarray:
        """The six host arrays of a transition as the columns of one ``(N, 6)`` float32 array: states and actions
        (table indexes, below 2**24), rewards and flags are all exact in it."""
        num_envs = np.shape(transition[0])[0] if np.ndim(transition[0]) else 1
        return np.concatenate([np.asarray(x, dtype=np.float32).reshape(num_envs, 1) for x in transition], axis=1)

    def _update_pure(self, params: dict, transition: Any, key: jax.Array) -> tuple:
        if not isinstance(transition, tuple):  # packed by ``_packed_transition``
            transition = tuple(transition[:, i] for i in range(6))
        states, actions, rewards, next_states, terminated, truncated = transition
        table = params["q_table"]
        states, actions, next_states = (jnp.asarray(x).reshape(-1).astype(jnp.int32) for x in (states, actions, next_states))
        envs = jnp.arange(states.shape[0]) % table.shape[0]
        key, subkey = jax.random.split(key)
        if self.on_policy_target:
            inputs = {"states": next_states.reshape(-1, 1), "key": subkey}
            next_actions = self.policy.act(inputs, role="policy", params=params)[0].reshape(-1).astype(jnp.int32)
        else:
            next_actions = jnp.argmax(table[envs, next_states], axis=-1)
        not_dones = 1.0 - jnp.logical_or(jnp.asarray(terminated), jnp.asarray(truncated)).reshape(-1).astype(table.dtype)
        delta = td_delta(table, envs, states, actions, jnp.asarray(rewards).reshape(-1).astype(table.dtype), next_states,
                         next_actions, not_dones, self._tabular.learning_rate, self._tabular.discount_factor)
        index = (envs, states, actions)
        if table_rows(table.shape[0], states.shape[0]) == "shared":
            delta = delta / jnp.zeros_like(table).at[index].add(1.0)[index]
        return {**params, "q_table": table.at[index].add(delta)}, key

    def _step_pure(self, params: dict, transition: Any, key: jax.Array, next_states: Any, update: Any) -> tuple:
        """The update (when ``update``), then the act on ``next_states`` with the tables and the key it leaves."""
        params, key = jax.lax.cond(update, lambda p, k: self._update_pure(p, transition, k), lambda p, k: (p, k),
                                   params, key)
        key_after, actions, outputs = self._act_pure(params, next_states, key)
        return params, key, key_after, actions, outputs

    def _set_tables(self, params: dict) -> None:
        for name, table in params.items():  # the same shapes and device, from the jitted update: no checks needed
            object.__setattr__(self.policy, name, table)

    def _tabular_update(self, *transition: Any) -> None:
        self._ahead = None
        next_states = transition[3]
        if not any(isinstance(x, jax.Array) for x in transition):  # host data: one transfer instead of six
            next_states = np.array(next_states, copy=True)  # kept to compare: an env may reuse its buffer
            transition = self._packed_transition(transition)
        if not self.fused_steps:
            params, self._key = self._update_jitted(self._tables(), transition, self._key)
            self._set_tables(params)
            return
        params, self._key, key_after, actions, outputs = self._step_jitted(self._tables(), transition, self._key,
                                                                           next_states, True)
        self._set_tables(params)
        self._ahead = _ActedAhead(next_states, tuple(params[name] for name in self._table_names), self._key, key_after,
                                  actions, outputs)


class Q_LEARNING(TabularAgent):
    """Tabular Q-learning (JAX): bootstraps from the greedy action of the next state."""

    default_config = Q_LEARNING_DEFAULT_CONFIG


class SARSA(TabularAgent):
    """Tabular SARSA (JAX): bootstraps from the action the policy takes in the next state."""

    default_config = SARSA_DEFAULT_CONFIG
    on_policy_target = True
