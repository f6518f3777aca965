"""Q-learning and SARSA on JAX: one jitted call per env step to act and one to update the Q-table.

The schedule is in ``skrl.common.tabular``. The agent owns a PRNG key (restored on resume) that it passes to the
model's exploration as ``inputs["key"]``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.tabular import Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG, TabularSchedule, table_rows, td_delta
from skrl.jax.agent_base import Agent
from skrl.jax.device_trees import commit


class TabularAgent(TabularSchedule, Agent):
    """Base of the JAX tabular agents. Model: ``policy`` (a ``TabularMixin`` model with ``q_table``)."""

    _float_dtype = np.float32
    _int_dtype = np.int32
    _bool_dtype = np.bool_

    def _tabular_setup(self) -> None:
        self._jax = config.jax.backend == "jax"
        self._key = commit(jax.random.fold_in(config.jax.key, 0x5441), self.device)  # the agent's own stream
        self._table_names: list[str] = []
        if self.policy is not None:
            self.policy.state_dict = commit(self.policy.state_dict.params, self.device)
            self._table_names = self.policy._table_names()
        self._act_jitted = jax.jit(self._act_pure)
        self._update_jitted = jax.jit(self._update_pure)

    def _act_pure(self, params: Any, states: jax.Array, key: jax.Array) -> tuple:
        key, subkey = jax.random.split(key)
        actions, _, outputs = self.policy.act({"states": states, "key": subkey}, role="policy", params=params)
        return key, actions, outputs

    def _tables(self) -> dict:
        """The policy's tables as the jitted functions' ``params``: read straight from its attributes (building its
        ``state_dict`` costs more than the step's whole update)."""
        return {name: getattr(self.policy, name) for name in self._table_names}

    def _tabular_act(self, states: Any) -> tuple:
        self._key, actions, outputs = self._act_jitted(self._tables(), states, self._key)
        return (actions if self._jax else jax.device_get(actions)), None, outputs

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

    def _tabular_update(self, *transition: Any) -> None:
        if not any(isinstance(x, jax.Array) for x in transition):  # host data: one transfer instead of six
            transition = self._packed_transition(transition)
        params, self._key = self._update_jitted(self._tables(), transition, self._key)
        for name, table in params.items():  # the same shapes and device, from the jitted update: no checks needed
            object.__setattr__(self.policy, name, table)


class Q_LEARNING(TabularAgent):
    """Tabular Q-learning (JAX): bootstraps from the greedy action of the next state."""

    default_config = Q_LEARNING_DEFAULT_CONFIG


class SARSA(TabularAgent):
    """Tabular SARSA (JAX): bootstraps from the action the policy takes in the next state."""

    default_config = SARSA_DEFAULT_CONFIG
    on_policy_target = True
