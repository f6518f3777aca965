"""Multi-agent algorithms: ``skrl.multi_agents.torch`` and ``skrl.multi_agents.jax`` (IPPO, MAPPO)."""
