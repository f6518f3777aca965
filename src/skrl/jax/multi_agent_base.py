"""The JAX multi-agent base: the backend-free ``MultiAgentCore`` on the JAX agent hooks."""

from __future__ import annotations

from skrl.common.multi_agent_core import MultiAgentCore
from skrl.jax.agent_base import Agent


class MultiAgent(MultiAgentCore, Agent):
    """Base class of JAX multi-agent algorithms (``skrl.multi_agents.jax.MultiAgent``).

    ``MultiAgent(possible_agents, models, memories=None, observation_spaces=None, action_spaces=None, device=None,
    cfg=None)`` with ``{uid: ...}`` models, memories and spaces; subclasses register their modules in
    ``checkpoint_modules[uid]``.
    """
