"""The RNN variants of SAC, TD3 and DDPG on JAX: ``RecurrentOffPolicy`` (the array side of
``skrl.common.rnn.RecurrentOffPolicyMixin``).

``class SAC_RNN(RecurrentOffPolicy, SAC)``: the jitted act gets the policy's states (``_act_inputs``) and returns
the next ones in ``outputs["rnn"]`` (they stay on the device); one more jitted call per step zeroes those of
finished envs. Each gradient step's batch is ``batch_size`` sequences of ``L`` steps followed by the stored policy
states of their rows; inside the one jitted update (``_run_update``, distributed runs included: the batches are each
process's own) ``_batch_inputs`` gives every model call (policy, target policy, critics, target critics) those
states, as ``(num_layers, rows, hidden)``, and ``terminated | truncated``. Without a recurrent policy the agent is
its base agent, exactly.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from skrl.common.rnn import RecurrentOffPolicyMixin
from skrl.jax.ddpg import DDPG, TD3
from skrl.jax.rnn import RecurrentStates
from skrl.jax.sac import SAC

__all__ = ["DDPG_RNN", "RecurrentOffPolicy", "SAC_RNN", "TD3_RNN"]


@jax.jit
def _stored(states: list) -> list:
    return [jnp.swapaxes(state, 0, 1) for state in states]


class RecurrentOffPolicy(RecurrentStates, RecurrentOffPolicyMixin):
    """Turns a JAX off-policy actor-critic agent into its RNN variant (see the module docstring)."""

    def _rnn_stored_samples(self) -> dict:
        """The step's initial states as memory rows ``(num_envs, num_layers, hidden)`` (host arrays for the "numpy"
        array backend)."""
        stored = _stored(self._rnn_initial_states["policy"])
        if not self._jax:
            stored = jax.device_get(stored)
        return dict(zip(self._rnn.memory_names, stored))

    def _sample_batches(self, steps: int) -> tuple:
        """Per gradient step: the replay tensors (sequences of ``L`` steps), then the policy's stored states."""
        if self._rnn is None:
            return super()._sample_batches(steps)
        batches = []
        for _ in range(steps):
            data, states = self._rnn_sample(self._off.batch_size)
            batches.append((*data, *states))
        return tuple(batches)

    def _batch_inputs(self, batch: Sequence[Any]) -> tuple[tuple, dict]:
        if self._rnn is None:
            return super()._batch_inputs(batch)
        count, names = len(self._tensors_names), self._tensors_names
        data, states = tuple(batch[:count]), batch[count:]
        dones = jnp.logical_or(data[names.index("terminated")], data[names.index("truncated")])
        return data, self._rnn.update_inputs([jnp.swapaxes(state, 0, 1) for state in states], dones)["policy"]


class SAC_RNN(RecurrentOffPolicy, SAC):
    """SAC with a recurrent policy (JAX): SAC's constructor, config (``SAC_DEFAULT_CONFIG``), checkpoints and tags.

    The model contract (specification, ``inputs["rnn"]``, ``outputs["rnn"]``, ``inputs["terminated"]`` in the
    update) is described once in ``skrl.common.rnn``. Without a recurrent policy the agent is ``SAC``.
    """


class TD3_RNN(RecurrentOffPolicy, TD3):
    """TD3 with a recurrent policy (JAX), as ``SAC_RNN`` is SAC's: TD3's constructor, config (``TD3_DEFAULT_CONFIG``),
    checkpoints and tags."""


class DDPG_RNN(RecurrentOffPolicy, DDPG):
    """DDPG with a recurrent policy (JAX), as ``SAC_RNN`` is SAC's: DDPG's constructor, config
    (``DDPG_DEFAULT_CONFIG``), checkpoints and tags."""
