"""Spaces utilities: ``skrl.utils.spaces.torch`` and ``skrl.utils.spaces.jax`` (same functions per backend)."""
