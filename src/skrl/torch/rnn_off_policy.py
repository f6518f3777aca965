"""The RNN variants of SAC, TD3 and DDPG on torch: ``RecurrentOffPolicy`` (the array side of
``skrl.common.rnn.RecurrentOffPolicyMixin``).

``class SAC_RNN(RecurrentOffPolicy, SAC)``: the policy gets its states in every rollout call (``_act_inputs``); each
gradient step samples ``batch_size`` sequences of ``L`` steps with the stored policy states of their rows, and every
model call of the step (policy, target policy, critics, target critics) gets those states, as
``(num_layers, rows, hidden)``, and ``terminated | truncated`` (``_update_inputs``). Without a recurrent policy the
agent is its base agent, exactly.
"""

from __future__ import annotations

import torch

from skrl.common.rnn import RecurrentOffPolicyMixin
from skrl.torch.ddpg import DDPG, TD3
from skrl.torch.rnn import RecurrentStates
from skrl.torch.sac import SAC

__all__ = ["DDPG_RNN", "RecurrentOffPolicy", "SAC_RNN", "TD3_RNN"]


class RecurrentOffPolicy(RecurrentStates, RecurrentOffPolicyMixin):
    """Turns a torch off-policy actor-critic agent into its RNN variant (see the module docstring)."""

    def _sample_batch(self) -> list[torch.Tensor]:
        if self._rnn is None:
            return super()._sample_batch()
        data, states = self._rnn_sample(self._off.batch_size)
        terminated, truncated = data[self._tensors_names.index("terminated")], data[self._tensors_names.index("truncated")]
        self._update_inputs = self._rnn.update_inputs([state.transpose(0, 1) for state in states],
                                                      terminated | truncated)["policy"]
        return data


class SAC_RNN(RecurrentOffPolicy, SAC):
    """SAC with a recurrent policy (torch): SAC's constructor, config (``SAC_DEFAULT_CONFIG``), checkpoints and tags.

    The model contract (specification, ``inputs["rnn"]``, ``outputs["rnn"]``, ``inputs["terminated"]`` in the
    update) is described once in ``skrl.common.rnn``. Without a recurrent policy the agent is ``SAC``.
    """


class TD3_RNN(RecurrentOffPolicy, TD3):
    """TD3 with a recurrent policy (torch), as ``SAC_RNN`` is SAC's: TD3's constructor, config
    (``TD3_DEFAULT_CONFIG``), checkpoints and tags."""


class DDPG_RNN(RecurrentOffPolicy, DDPG):
    """DDPG with a recurrent policy (torch), as ``SAC_RNN`` is SAC's: DDPG's constructor, config
    (``DDPG_DEFAULT_CONFIG``), checkpoints and tags."""
