"""JAX agents. ``Agent`` is the base class; algorithms live in sub-packages (``skrl.agents.jax.ppo``)."""

from skrl.jax.agent_base import Agent

__all__ = ["Agent"]
