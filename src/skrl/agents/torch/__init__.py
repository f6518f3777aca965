"""torch agents. ``Agent`` is the base class; algorithms live in sub-packages (``skrl.agents.torch.ppo``)."""

from skrl.torch.agent_base import Agent

__all__ = ["Agent"]
