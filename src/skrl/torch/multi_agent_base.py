"""The torch multi-agent base: the backend-free ``MultiAgentCore`` on the torch agent hooks."""

from __future__ import annotations

from typing import Iterable, Optional

import torch

from skrl.common.multi_agent_core import MultiAgentCore
from skrl.torch.agent_base import Agent


class MultiAgent(MultiAgentCore, Agent):
    """Base class of torch multi-agent algorithms (``skrl.multi_agents.torch.MultiAgent``).

    ``MultiAgent(possible_agents, models, memories=None, observation_spaces=None, action_spaces=None, device=None,
    cfg=None)`` with ``{uid: ...}`` models, memories and spaces; subclasses register their modules in
    ``checkpoint_modules[uid]``.
    """

    def _average_gradients(self, parameters: Optional[Iterable[torch.Tensor]] = None) -> None:
        if self._world_size() > 1 and parameters is None:
            for model in self._distinct_models():
                model.reduce_parameters()
        else:
            super()._average_gradients(parameters)
