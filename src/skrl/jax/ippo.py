"""IPPO on JAX: the JAX PPO as each agent's learner (the composition is in ``skrl.common.ippo``)."""

from __future__ import annotations

from typing import Any

import jax

from skrl.common.ippo import IPPO_DEFAULT_CONFIG, AgentLearnerMixin, AgentLearners
from skrl.jax.multi_agent_base import MultiAgent
from skrl.jax.ppo import PPO


class AgentPPO(AgentLearnerMixin, PPO):
    """The JAX PPO learning for one agent of a multi-agent algorithm."""

    def attach_to_owner(self, owner: Any, uid: str) -> None:
        """Also give the learner its own PRNG stream: agents sampling with one key would act in lockstep."""
        super().attach_to_owner(owner, uid)
        self._key = jax.random.fold_in(self._key, owner.possible_agents.index(uid))


class IPPO(AgentLearners, MultiAgent):
    """Independent PPO (JAX). Models per agent: ``policy`` (stochastic) and ``value`` (deterministic)."""

    default_config = IPPO_DEFAULT_CONFIG
    learner_class = AgentPPO
