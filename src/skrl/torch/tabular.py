"""Q-learning and SARSA on torch: acting and the in-place Q-table update (the schedule is in ``common.tabular``)."""

from __future__ import annotations

from typing import Any

import torch

from skrl.common.tabular import Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG, TabularSchedule, table_rows, td_delta
from skrl.torch.agent_base import Agent


class TabularAgent(TabularSchedule, Agent):
    """Base of the torch tabular agents. Model: ``policy`` (a ``TabularMixin`` model with ``q_table``)."""

    _float_dtype = torch.float32
    _int_dtype = torch.int64
    _bool_dtype = torch.bool

    def _tabular_act(self, states: torch.Tensor) -> tuple:
        with torch.no_grad():
            return self.policy.act({"states": states}, role="policy")

    def _env_rows(self, num_envs: int, table: torch.Tensor) -> torch.Tensor:
        """The table row of each env of the batch (cached: the same every step)."""
        rows = getattr(self, "_rows", None)
        if rows is None or rows.shape[0] != num_envs or rows.device != table.device:
            shared = table_rows(table.shape[0], num_envs) == "shared"
            rows = torch.arange(num_envs, device=table.device) * (not shared)
            self._rows = rows
        return rows

    @torch.no_grad()
    def _tabular_update(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                        truncated: Any) -> None:
        table = self.policy.table()
        states, actions, next_states = (x.reshape(-1) for x in (states, actions, next_states))
        envs = self._env_rows(states.shape[0], table)
        if self.on_policy_target:
            next_actions = self.policy.act({"states": next_states.view(-1, 1)}, role="policy")[0].reshape(-1)
        else:
            next_actions = table[envs, next_states].argmax(dim=-1)
        not_dones = 1.0 - (terminated | truncated).reshape(-1).to(table.dtype)
        delta = td_delta(table, envs, states, actions, rewards.reshape(-1), next_states, next_actions, not_dones,
                         self._tabular.learning_rate, self._tabular.discount_factor)
        index = (envs, states, actions)
        if table.shape[0] < states.shape[0]:  # shared table: the mean update of each visited entry
            delta = delta / torch.zeros_like(table).index_put_(index, torch.ones_like(delta), accumulate=True)[index]
        table.index_put_(index, delta.to(table.dtype), accumulate=True)


class Q_LEARNING(TabularAgent):
    """Tabular Q-learning (torch): bootstraps from the greedy action of the next state."""

    default_config = Q_LEARNING_DEFAULT_CONFIG


class SARSA(TabularAgent):
    """Tabular SARSA (torch): bootstraps from the action the policy takes in the next state."""

    default_config = SARSA_DEFAULT_CONFIG
    on_policy_target = True
