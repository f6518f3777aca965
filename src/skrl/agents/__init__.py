"""Agents, per backend: ``skrl.agents.torch`` and ``skrl.agents.jax``."""
