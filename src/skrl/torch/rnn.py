"""The RNN variants of PPO, A2C and RPO on torch: ``RecurrentMixin`` (the array side of ``skrl.common.rnn``).

``class PPO_RNN(RecurrentMixin, PPO)``: the mixin feeds each policy and value call its recurrent states (through
PPO's ``_role_inputs``), keeps the states the models return, stores each step's initial states and trains on
sequence-ordered mini-batches (``memory.sample_all(..., sequence_length=L)``). Without recurrent models the agent
is its base agent, exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from skrl.common.rnn import ROLES, RecurrentAgentMixin, RecurrentTRPOMixin
from skrl.torch.a2c import A2C
from skrl.torch.ppo import PPO
from skrl.torch.rpo import RPO
from skrl.torch.trpo import TRPO

__all__ = ["A2C_RNN", "PPO_RNN", "RPO_RNN", "RecurrentMixin", "RecurrentStates", "TRPO_RNN"]


class RecurrentStates:
    """The torch arrays of the recurrent states (``_rnn_zeros``, ``_rnn_next_states``, ``_rnn_stored_samples``: the
    backend hooks of ``RecurrentAgentMixin`` and ``RecurrentOffPolicyMixin``)."""

    def _rnn_zeros(self, size: tuple) -> torch.Tensor:
        return torch.zeros(size, dtype=torch.float32, device=self.device)

    def _rnn_from_host(self, state: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(state), dtype=torch.float32, device=self.device)

    def _rnn_next_states(self, final: dict, terminated: Any, truncated: Any) -> dict:
        finished = torch.logical_or(torch.as_tensor(terminated), torch.as_tensor(truncated))
        keep = torch.logical_not(finished).reshape(1, -1, 1).to(device=self.device, dtype=torch.float32)
        return {role: [state * keep for state in states] for role, states in final.items()}

    def _rnn_stored_samples(self) -> dict:
        return {name: state.transpose(0, 1) for role in ROLES
                for name, state in zip(self._rnn.stored_names(role), self._rnn_initial_states[role])}


class RecurrentMixin(RecurrentStates, RecurrentAgentMixin):
    """Turns a torch agent of the PPO family into its RNN variant (see the module docstring)."""

    _rnn_batch: Any = None  # during an update step: {role: {"rnn": [...], "terminated": ...}} of the mini-batch

    # ---- model calls ---------------------------------------------------------------------------------------------

    def _role_inputs(self, inputs: dict, role: str) -> dict:
        if self._rnn is None:
            return super()._role_inputs(inputs, role)
        if self._rnn_batch is not None:
            return {**inputs, **self._rnn_batch[role]}
        return {**inputs, "rnn": self._rnn_states(role)}

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> Any:
        """PPO's ``act`` with the policy's (and, in training, the value's) states; keeps the states they return."""
        actions, log_prob, outputs = super().act(states, timestep, timesteps)
        if self._rnn is not None:
            self._rnn_final_states["policy"] = self._rnn.returned_states(outputs, "policy")
        return actions, log_prob, outputs

    def _values(self, inputs: dict) -> torch.Tensor:
        if self._rnn is None:
            return super()._values(inputs)
        values, _, outputs = self.value.act(self._role_inputs(inputs, "value"), role="value")
        if self._rnn_batch is None:  # a rollout call (or the last values', whose states are then not used)
            self._rnn_final_states["value"] = self._rnn.returned_states(outputs, "value")
        return self._value_preprocessor(values, inverse=True)

    # ---- update --------------------------------------------------------------------------------------------------

    def _ppo_minibatches(self) -> list:
        """Recurrent: every row, ordered by env in sequences of ``L`` steps, with dones and stored states."""
        if self._rnn is None:
            return super()._ppo_minibatches()
        names = [*self._tensors_names, "terminated", "truncated", *self._rnn.memory_names]
        parts = max(1, min(self._mini_batches, len(self.memory)))
        return self.memory.sample_all(names, mini_batches=parts, sequence_length=self._rnn.sequence_length)

    def _ppo_train_minibatch(self, batch: Any, epoch: int) -> dict:
        if self._rnn is None:
            return super()._ppo_train_minibatch(batch, epoch)
        count = len(self._tensors_names)
        terminated, truncated, *rnn = batch[count:]
        self._rnn_batch = self._rnn.update_inputs([state.transpose(0, 1) for state in rnn], terminated | truncated)
        try:
            return super()._ppo_train_minibatch(batch[:count], epoch)
        finally:
            self._rnn_batch = None


class PPO_RNN(RecurrentMixin, PPO):
    """PPO with recurrent policy and/or value models (torch): PPO's constructor, config (``PPO_DEFAULT_CONFIG``),
    checkpoints and tags.

    The model contract (specification, ``inputs["rnn"]``, ``outputs["rnn"]``, ``inputs["terminated"]`` in the
    update) is described once in ``skrl.common.rnn``. Without a recurrent model the agent is ``PPO``.
    """


class A2C_RNN(RecurrentMixin, A2C):
    """A2C with recurrent policy and/or value models (torch), as ``PPO_RNN`` is PPO's: A2C's constructor, config
    (``A2C_DEFAULT_CONFIG``), checkpoints and tags."""


class RPO_RNN(RecurrentMixin, RPO):
    """RPO with recurrent policy and/or value models (torch), as ``PPO_RNN`` is PPO's: RPO's constructor, config
    (``RPO_DEFAULT_CONFIG``), checkpoints and tags."""


class TRPO_RNN(RecurrentTRPOMixin, RecurrentMixin, TRPO):
    """TRPO with recurrent policy and/or value models (torch), as ``PPO_RNN`` is PPO's: TRPO's constructor, config
    (``TRPO_DEFAULT_CONFIG``), checkpoints and tags. The policy step (surrogate, KL and line search) gets the whole
    rollout in sequences of ``L`` steps with the stored policy states and dones (cuDNN disabled: its RNN kernels have
    no double backward); the value steps get contiguous mini-batches of those sequences with the value's states."""

    def _rnn_swap(self, state: torch.Tensor) -> torch.Tensor:
        return state.transpose(0, 1)
