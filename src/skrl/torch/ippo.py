"""IPPO on torch: the torch PPO as each agent's learner (the composition is in ``skrl.common.ippo``)."""

from __future__ import annotations

from skrl.common.ippo import IPPO_DEFAULT_CONFIG, AgentLearnerMixin, AgentLearners
from skrl.torch.multi_agent_base import MultiAgent
from skrl.torch.ppo import PPO


class AgentPPO(AgentLearnerMixin, PPO):
    """The torch PPO learning for one agent of a multi-agent algorithm."""


class IPPO(AgentLearners, MultiAgent):
    """Independent PPO (torch). Models per agent: ``policy`` (stochastic) and ``value`` (deterministic)."""

    default_config = IPPO_DEFAULT_CONFIG
    learner_class = AgentPPO
