"""Torch model instantiators: ``gaussian_model(..., network=[...], output="ACTIONS")`` and friends.

The free names of the ``return_source`` text (``Model``, the mixins, ``nn``, ``torch``,
``unflatten_tensorized_space``, ``one_hot_encoding``) are importable from this module, as in skrl 1.4.3.
"""

import torch  # noqa: F401
from torch import nn  # noqa: F401

from skrl.common.model_instantiators import Shape
from skrl.common.spaces import unflatten_tensorized_space  # noqa: F401
from skrl.models.torch import (  # noqa: F401
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
)
from skrl.torch.model_instantiators import INSTANTIATORS as _INSTANTIATORS
from skrl.torch.model_instantiators import one_hot_encoding  # noqa: F401

categorical_model = _INSTANTIATORS.categorical_model
deterministic_model = _INSTANTIATORS.deterministic_model
gaussian_model = _INSTANTIATORS.gaussian_model
multicategorical_model = _INSTANTIATORS.multicategorical_model
multivariate_gaussian_model = _INSTANTIATORS.multivariate_gaussian_model
shared_model = _INSTANTIATORS.shared_model

__all__ = [
    "Shape",
    "categorical_model",
    "deterministic_model",
    "gaussian_model",
    "multicategorical_model",
    "multivariate_gaussian_model",
    "shared_model",
]
