"""Environment wrappers: ``skrl.envs.wrappers.torch`` and ``skrl.envs.wrappers.jax``."""
