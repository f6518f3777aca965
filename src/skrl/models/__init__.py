"""Models and mixins: ``skrl.models.torch`` and ``skrl.models.jax``."""
