"""MAPPO on torch: the torch PPO as each agent's learner on ``[observation | shared state]`` rows."""

from __future__ import annotations

from typing import Optional

import torch

from skrl.common.mappo import MAPPO_DEFAULT_CONFIG, SharedValueLearnerMixin, SharedValueLearners
from skrl.torch.ippo import AgentPPO
from skrl.torch.multi_agent_base import MultiAgent


class AgentSharedValuePPO(SharedValueLearnerMixin, AgentPPO):
    """The torch PPO learning for one MAPPO agent."""


class MAPPO(SharedValueLearners, MultiAgent):
    """Multi-Agent PPO (torch): per agent a ``policy`` on its observations and a ``value`` on the shared states."""

    default_config = MAPPO_DEFAULT_CONFIG
    learner_class = AgentSharedValuePPO

    def _concatenate(self, observations: torch.Tensor, shared_states: Optional[torch.Tensor], width: int) -> torch.Tensor:
        observations = torch.as_tensor(observations, device=self.device).float()
        if shared_states is None:
            shared_states = observations.new_zeros((*observations.shape[:-1], width))
        return torch.cat([observations, torch.as_tensor(shared_states, device=observations.device).float()], -1)
