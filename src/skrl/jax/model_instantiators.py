"""JAX side of the model instantiators: layer specs to Flax modules, expression ops, generated classes.

Parsing and the forward pass are backend-free (``skrl.common.model_instantiators``). Layers are built in
``setup``; ``in_features``/``in_channels`` are not needed (Flax infers input sizes). Images are NHWC.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from skrl.common import _model_expressions as expressions
from skrl.common._instantiator_functions import ModelInstantiators
from skrl.common._model_source import ModelBlueprint, SourceDialect
from skrl.common.model_instantiators import (
    LayerSpec,
    LogStdSpec,
    build_network,
    network_outputs,
    render_kwargs,
    resolve_kwargs,
)
from skrl.jax.mixins import CategoricalMixin, DeterministicMixin, GaussianMixin, MultiCategoricalMixin
from skrl.jax.models import Model

MIXINS = {cls.__name__: cls for cls in (GaussianMixin, CategoricalMixin, MultiCategoricalMixin, DeterministicMixin)}
_FUNCTION_NAMES = {"softsign": "soft_sign"}
_FLATTEN_SOURCE = "lambda x: jnp.reshape(x, (x.shape[0], -1))"


class JaxExpressionOps:
    """``ExpressionOps`` for JAX (features on the last axis)."""

    def activation(self, name: str, x: jax.Array) -> jax.Array:
        return getattr(nn, _FUNCTION_NAMES.get(name, name))(x)

    def concatenate(self, xs: Sequence[jax.Array]) -> jax.Array:
        return jnp.concatenate(list(xs), axis=-1)

    def permute(self, x: jax.Array, dims: Sequence[int]) -> jax.Array:
        return jnp.transpose(x, tuple(dims))

    def one_hot(self, indices: jax.Array, num_classes: int) -> jax.Array:
        return jax.nn.one_hot(jnp.asarray(indices).astype(jnp.int32), num_classes)


OPS = JaxExpressionOps()


def one_hot_encoding(space: Any, x: jax.Array) -> jax.Array:
    """Float one-hot encoding of Discrete ``(B, 1)`` or MultiDiscrete ``(B, k)`` index arrays."""
    return expressions.one_hot_encoding(space, x, OPS)


def _flatten(x: jax.Array) -> jax.Array:
    return jnp.reshape(x, (x.shape[0], -1))


def _sequential(layers: list) -> nn.Sequential:
    """A Flax ``Sequential`` (an empty container passes its input through)."""
    return nn.Sequential(layers or [lambda x: x])


def _conv_options(options: dict) -> dict:
    names = {"out_channels": "features", "kernel_size": "kernel_size", "stride": "strides", "padding": "padding",
             "bias": "use_bias"}
    kwargs = {names[k]: v.upper() if isinstance(v, str) else v for k, v in options.items() if k in names}
    if isinstance(kwargs.get("kernel_size"), int):
        kwargs["kernel_size"] = (kwargs["kernel_size"],) * 2
    return kwargs


def _recipe(spec: LayerSpec) -> tuple[str, Optional[dict]]:
    """``flax.linen`` attribute and keyword arguments of a layer spec (None: a function used as is)."""
    options = dict(spec.options)
    if spec.kind == "activation":
        return _FUNCTION_NAMES.get(options["name"], options["name"]), None
    if spec.kind == "linear":
        kwargs = {"features": options["out_features"]}
        return "Dense", ({**kwargs, "use_bias": options["bias"]} if "bias" in options else kwargs)
    if spec.kind == "conv2d":
        return "Conv", _conv_options(options)
    return "flatten", None


def build_module(spec: LayerSpec, num_observations: int, num_actions: int) -> Any:
    if spec.kind == "flatten":
        return _flatten
    name, kwargs = _recipe(spec)
    attribute = getattr(nn, name)
    return attribute if kwargs is None else attribute(**resolve_kwargs(kwargs, num_observations, num_actions))


def render_module(spec: LayerSpec) -> str:
    if spec.kind == "flatten":
        return _FLATTEN_SOURCE
    name, kwargs = _recipe(spec)
    return f"nn.{name}" if kwargs is None else f"nn.{name}({render_kwargs(kwargs)})"


_CALL_TEMPLATES = {"concatenate": "jnp.concatenate({0}, axis=-1)", "permute": "jnp.permute_dims({0}, {1})",
                   "one_hot_encoding": "one_hot_encoding({0}, {1})", "softsign": "nn.soft_sign({0})",
                   "activation": "nn.{name}({0})"}


def _render_log_std(spec: LogStdSpec) -> str:
    value = f"jnp.full(({spec.size.render()},), {spec.initial!r})"
    if spec.fixed:
        return f"self.log_std_parameter = {value}"
    return f'self.log_std_parameter = self.param("log_std_parameter", lambda _: {value})'


class _InstantiatedModel(Model):
    """Base of generated classes; the class attribute ``_blueprint`` says what to build in ``setup``."""

    def __init__(self, observation_space: Any = None, action_space: Any = None, device: Any = None,
                 parent: Optional[Any] = None, name: Optional[str] = None) -> None:
        Model.__init__(self, observation_space, action_space, device, parent, name)
        mixin = self._blueprint.mixins[0]
        MIXINS[mixin.name].__init__(self, **mixin.options, role=mixin.role)

    def setup(self) -> None:
        build_network(self, self._blueprint.definition, _sequential, build_module, self._log_std_parameter)

    def _log_std_parameter(self, spec: LogStdSpec, size: int) -> jax.Array:
        if spec.fixed:
            return jnp.full((size,), spec.initial)
        return self.param("log_std_parameter", lambda _: jnp.full((size,), spec.initial))

    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> tuple:
        return network_outputs(self, self._blueprint.definition, inputs, OPS)


class JaxModelInstantiators(ModelInstantiators):
    """The instantiator functions for JAX (no shared or multivariate Gaussian models, as skrl 1.4.3)."""

    dialect = SourceDialect(render_module=render_module, render_log_std=_render_log_std, call_templates=_CALL_TEMPLATES,
                            forward_signature="__call__(self, inputs, role)", sequential=("nn.Sequential([", "])"),
                            layers_method="setup", extra_kwargs=True)

    def _create(self, blueprint: ModelBlueprint, observation_space: Any, action_space: Any, device: Any) -> Model:
        names = [m.name for m in blueprint.mixins]
        if blueprint.is_shared or names[0] not in MIXINS:
            raise ValueError(f"Unsupported model for JAX: {blueprint.class_name} with {names} (JAX supports single "
                             f"models with {', '.join(MIXINS)})")
        namespace = {"_blueprint": blueprint, "__module__": __name__, "__init__": _InstantiatedModel.__init__}
        bases = (MIXINS[blueprint.mixins[0].name], _InstantiatedModel)
        return type(blueprint.class_name, bases, namespace)(observation_space, action_space, device)


INSTANTIATORS = JaxModelInstantiators()
