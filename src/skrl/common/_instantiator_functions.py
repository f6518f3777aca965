"""The public model-instantiator functions, written once for both backends.

``ModelInstantiators`` holds ``gaussian_model``, ``deterministic_model``... with skrl 1.4.3 signatures. A backend
subclass supplies ``dialect`` (for ``return_source``) and ``_create`` (build the class and instantiate it);
the public modules expose the bound methods, e.g. ``gaussian_model = TorchModelInstantiators().gaussian_model``.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from skrl._logging import logger
from skrl.common._model_source import ModelBlueprint, SourceDialect, render_model_source
from skrl.common.model_instantiators import (
    MixinSpec,
    build_definition,
    build_shared_definition,
    convert_deprecated_parameters,
)

_DEPRECATED = ("input_shape", "hiddens", "hidden_activation", "output_shape", "output_activation", "output_scale")


def _network_and_output(network: Any, output: Any, kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    """Use the pre-1.3.0 arguments when ``network`` is empty and some were given; warn about unknown ones."""
    unknown = [k for k in kwargs if k not in _DEPRECATED]
    if unknown:
        logger.warning(f"Ignoring unknown model instantiator arguments {unknown} (deprecated ones: {list(_DEPRECATED)})")
    deprecated = {k: v for k, v in kwargs.items() if k in _DEPRECATED}
    if not network and deprecated:
        return convert_deprecated_parameters(deprecated)
    return network, output


_FUNCTIONS = {"GaussianModel": "gaussian_model", "MultivariateGaussianModel": "multivariate_gaussian_model",
              "DeterministicModel": "deterministic_model", "CategoricalModel": "categorical_model",
              "MultiCategoricalModel": "multicategorical_model"}


def _attach_recipe(model: Any, function: str, kwargs: Mapping[str, Any]) -> None:
    """Remember how the model was built, so that a run manifest can rebuild it without the user's code."""
    try:
        object.__setattr__(model, "instantiator_recipe", {"function": function, "kwargs": dict(kwargs)})
    except Exception:  # a model class that refuses attributes simply has no recipe
        pass


class ModelInstantiators:
    """Instantiator functions over a backend (``dialect`` and ``_create`` are the backend hooks)."""

    dialect: SourceDialect

    def _create(self, blueprint: ModelBlueprint, observation_space: Any, action_space: Any, device: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _create")

    def _instantiate(self, blueprint_args: tuple, network: Any, output: Any, kwargs: Mapping[str, Any],
                     spaces: tuple, return_source: bool, log_std: Optional[tuple] = None) -> Any:
        class_name, mixin, options = blueprint_args
        network, output = _network_and_output(network, output, kwargs)
        definition = build_definition(network, output, log_std)
        blueprint = ModelBlueprint(class_name, (MixinSpec(mixin, options),), definition)
        if return_source:
            return render_model_source(blueprint, self.dialect)
        model = self._create(blueprint, *spaces)
        recipe = {**options, "network": [dict(c) for c in network], "output": output}
        if log_std is not None:
            recipe.update(initial_log_std=log_std[0], fixed_log_std=log_std[1])
        _attach_recipe(model, _FUNCTIONS[class_name], recipe)
        return model

    def gaussian_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                       clip_actions: bool = False, clip_log_std: bool = True, min_log_std: float = -20,
                       max_log_std: float = 2, reduction: str = "sum", initial_log_std: float = 0,
                       fixed_log_std: bool = False, network: Sequence[Mapping[str, Any]] = [], output: str = "",
                       return_source: bool = False, *args, **kwargs) -> Any:
        """Gaussian model (``GaussianMixin``) from a declarative ``network``/``output`` (or its source text)."""
        options = {"clip_actions": clip_actions, "clip_log_std": clip_log_std, "min_log_std": min_log_std,
                   "max_log_std": max_log_std, "reduction": reduction}
        return self._instantiate(("GaussianModel", "GaussianMixin", options), network, output, kwargs,
                                 (observation_space, action_space, device), return_source,
                                 (initial_log_std, fixed_log_std))

    def multivariate_gaussian_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                                    clip_actions: bool = False, clip_log_std: bool = True, min_log_std: float = -20,
                                    max_log_std: float = 2, initial_log_std: float = 0, fixed_log_std: bool = False,
                                    network: Sequence[Mapping[str, Any]] = [], output: str = "",
                                    return_source: bool = False, *args, **kwargs) -> Any:
        """Multivariate Gaussian model (``MultivariateGaussianMixin``, torch only)."""
        options = {"clip_actions": clip_actions, "clip_log_std": clip_log_std, "min_log_std": min_log_std,
                   "max_log_std": max_log_std}
        return self._instantiate(("MultivariateGaussianModel", "MultivariateGaussianMixin", options), network,
                                 output, kwargs, (observation_space, action_space, device), return_source,
                                 (initial_log_std, fixed_log_std))

    def deterministic_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                            clip_actions: bool = False, network: Sequence[Mapping[str, Any]] = [], output: str = "",
                            return_source: bool = False, *args, **kwargs) -> Any:
        """Deterministic model (``DeterministicMixin``): values, critics, deterministic policies."""
        return self._instantiate(("DeterministicModel", "DeterministicMixin", {"clip_actions": clip_actions}),
                                 network, output, kwargs, (observation_space, action_space, device), return_source)

    def categorical_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                          unnormalized_log_prob: bool = True, network: Sequence[Mapping[str, Any]] = [],
                          output: str = "", return_source: bool = False, *args, **kwargs) -> Any:
        """Categorical model (``CategoricalMixin``) for a Discrete action space."""
        options = {"unnormalized_log_prob": unnormalized_log_prob}
        return self._instantiate(("CategoricalModel", "CategoricalMixin", options), network, output, kwargs,
                                 (observation_space, action_space, device), return_source)

    def multicategorical_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                               unnormalized_log_prob: bool = True, reduction: str = "sum",
                               network: Sequence[Mapping[str, Any]] = [], output: str = "",
                               return_source: bool = False, *args, **kwargs) -> Any:
        """Multi-categorical model (``MultiCategoricalMixin``) for a MultiDiscrete action space."""
        options = {"unnormalized_log_prob": unnormalized_log_prob, "reduction": reduction}
        return self._instantiate(("MultiCategoricalModel", "MultiCategoricalMixin", options), network, output,
                                 kwargs, (observation_space, action_space, device), return_source)

    def shared_model(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                     structure: Sequence[str] = ["GaussianMixin", "DeterministicMixin"], roles: Sequence[str] = [],
                     parameters: Sequence[Mapping[str, Any]] = [], single_forward_pass: bool = True,
                     return_source: bool = False) -> Any:
        """Two-role model (torch only): a trunk from the first role's ``network`` and one head per role."""
        parameters = [dict(p) for p in parameters]
        if parameters and "network" not in parameters[0]:
            for params in parameters:
                deprecated = {k: params.pop(k) for k in list(params) if k in _DEPRECATED}
                params["network"], params["output"] = _network_and_output([], "", deprecated)
        mixins, definition = build_shared_definition(structure, roles, parameters, single_forward_pass)
        blueprint = ModelBlueprint("SharedModel", mixins, definition)
        if return_source:
            return render_model_source(blueprint, self.dialect)
        return self._create(blueprint, observation_space, action_space, device)
