"""Model instantiators: build models from a declarative description (``skrl.utils.model_instantiators.torch``
and ``skrl.utils.model_instantiators.jax``). This package itself exports nothing."""
