"""JAX model instantiators: ``gaussian_model(..., network=[...], output="ACTIONS")`` and friends.

The free names of the ``return_source`` text (``Model``, the mixins, ``nn``, ``jnp``,
``unflatten_tensorized_space``, ``one_hot_encoding``) are importable from this module, as in skrl 1.4.3.
"""

import flax.linen as nn  # noqa: F401
import jax.numpy as jnp  # noqa: F401

from skrl.common.model_instantiators import Shape
from skrl.common.spaces import unflatten_tensorized_space  # noqa: F401
from skrl.jax.model_instantiators import INSTANTIATORS as _INSTANTIATORS
from skrl.jax.model_instantiators import one_hot_encoding  # noqa: F401
from skrl.models.jax import CategoricalMixin, DeterministicMixin, GaussianMixin, Model, MultiCategoricalMixin  # noqa: F401

categorical_model = _INSTANTIATORS.categorical_model
deterministic_model = _INSTANTIATORS.deterministic_model
gaussian_model = _INSTANTIATORS.gaussian_model
multicategorical_model = _INSTANTIATORS.multicategorical_model

__all__ = [
    "Shape",
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "multicategorical_model",
]
