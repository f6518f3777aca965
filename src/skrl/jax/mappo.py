"""MAPPO on JAX: the JAX PPO as each agent's learner on ``[observation | shared state]`` rows."""

from __future__ import annotations

from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.mappo import MAPPO_DEFAULT_CONFIG, SharedValueLearnerMixin, SharedValueLearners
from skrl.jax.ippo import AgentPPO
from skrl.jax.multi_agent_base import MultiAgent


class AgentSharedValuePPO(SharedValueLearnerMixin, AgentPPO):
    """The JAX PPO learning for one MAPPO agent."""


class MAPPO(SharedValueLearners, MultiAgent):
    """Multi-Agent PPO (JAX): per agent a ``policy`` on its observations and a ``value`` on the shared states."""

    default_config = MAPPO_DEFAULT_CONFIG
    learner_class = AgentSharedValuePPO

    def _concatenate(self, observations: Any, shared_states: Optional[Any], width: int) -> Any:
        xp = jnp if isinstance(observations, jax.Array) or isinstance(shared_states, jax.Array) else np
        observations = xp.asarray(observations, xp.float32)
        if shared_states is None:
            shared_states = xp.zeros((*observations.shape[:-1], width), xp.float32)
        return xp.concatenate([observations, xp.asarray(shared_states, xp.float32)], axis=-1)
