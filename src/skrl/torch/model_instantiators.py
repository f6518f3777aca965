"""Torch side of the model instantiators: layer specs to ``torch.nn`` modules, expression ops, generated classes.

Parsing and the forward pass are backend-free (``skrl.common.model_instantiators``); this module only maps
them to torch. Layers without ``in_features``/``in_channels`` are lazy, as in skrl 1.4.3: call
``init_state_dict(role)`` (or run one forward pass) to materialise them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as _module_hooks

from skrl.common import _model_expressions as expressions
from skrl.common._instantiator_functions import ModelInstantiators
from skrl.common._model_source import ModelBlueprint, SourceDialect
from skrl.common.model_instantiators import (
    LayerSpec,
    LogStdSpec,
    SharedDefinition,
    build_network,
    network_outputs,
    render_kwargs,
    resolve_kwargs,
    shared_outputs,
)
from skrl.torch.mixins import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
)
from skrl.torch.models import Model

MIXINS = {cls.__name__: cls for cls in (GaussianMixin, MultivariateGaussianMixin, CategoricalMixin,
                                        MultiCategoricalMixin, DeterministicMixin)}
_ACTIVATION_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
                       "softplus": "Softplus", "softsign": "Softsign", "selu": "SELU", "softmax": "Softmax"}


class TorchExpressionOps:
    """``ExpressionOps`` for torch (features on dim 1, as torch layers expect)."""

    def activation(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(x, dim=-1) if name == "softmax" else getattr(F, name)(x)

    def concatenate(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        return torch.cat(list(xs), dim=1)

    def permute(self, x: torch.Tensor, dims: Sequence[int]) -> torch.Tensor:
        return torch.permute(x, tuple(dims))

    def one_hot(self, indices: torch.Tensor, num_classes: int) -> torch.Tensor:
        return F.one_hot(indices.long(), num_classes).float()


OPS = TorchExpressionOps()


def one_hot_encoding(space: Any, x: torch.Tensor) -> torch.Tensor:
    """Float one-hot encoding of Discrete ``(B, 1)`` or MultiDiscrete ``(B, k)`` index tensors."""
    return expressions.one_hot_encoding(space, x, OPS)


def _recipe(spec: LayerSpec) -> tuple[str, dict]:
    """``torch.nn`` class name and keyword arguments (sizes may still be ``Units``) of a layer spec."""
    options = dict(spec.options)
    if spec.kind == "activation":
        return _ACTIVATION_MODULES[options["name"]], ({"dim": -1} if options["name"] == "softmax" else {})
    if spec.kind == "linear":
        order = ("in_features", "out_features", "bias")
        return ("Linear" if "in_features" in options else "LazyLinear"), {k: options[k] for k in order if k in options}
    if spec.kind == "conv2d":
        options = {k: v.lower() if isinstance(v, str) else v for k, v in options.items()}
        return ("Conv2d" if "in_channels" in options else "LazyConv2d"), options
    return "Flatten", options


class LayerChain(nn.Sequential):
    """``nn.Sequential`` (same state dict, same printout) that calls its layers' ``forward`` directly.

    ``nn.Module.__call__`` costs about a microsecond per layer, a fifth of a small MLP's forward pass on the CPU
    (about 5 us per act of a 64x64 network). When any hook (global or on a layer), tracing or a compiled layer is
    present, every layer goes through ``__call__`` as usual.
    """

    def _get_name(self) -> str:
        return "Sequential"

    def forward(self, input: Any) -> Any:  # noqa: A002 (nn.Sequential's argument name)
        layers = self._modules.values()
        if (_module_hooks._global_forward_pre_hooks or _module_hooks._global_forward_hooks
                or _module_hooks._global_backward_pre_hooks or _module_hooks._global_backward_hooks
                or torch._C._get_tracing_state()
                or any(layer._forward_pre_hooks or layer._forward_hooks or layer._backward_pre_hooks
                       or layer._backward_hooks or layer._compiled_call_impl is not None for layer in layers)):
            return super().forward(input)
        for layer in layers:
            input = layer.forward(input)
        return input


def build_module(spec: LayerSpec, num_observations: int, num_actions: int) -> nn.Module:
    name, kwargs = _recipe(spec)
    return getattr(nn, name)(**resolve_kwargs(kwargs, num_observations, num_actions))


def render_module(spec: LayerSpec) -> str:
    name, kwargs = _recipe(spec)
    return f"nn.{name}({render_kwargs(kwargs)})"


_CALL_TEMPLATES = {"concatenate": "torch.cat({0}, dim=1)", "permute": "torch.permute({0}, {1})",
                   "one_hot_encoding": "one_hot_encoding({0}, {1})", "softmax": "nn.functional.softmax({0}, dim=-1)",
                   "activation": "nn.functional.{name}({0})"}


def _render_log_std(spec: LogStdSpec) -> str:
    return (f"self.log_std_parameter = nn.Parameter(torch.full(size=({spec.size.render()},), "
            f"fill_value={spec.initial!r}), requires_grad={not spec.fixed})")


def _log_std_parameter(spec: LogStdSpec, size: int) -> nn.Parameter:
    return nn.Parameter(torch.full((size,), spec.initial), requires_grad=not spec.fixed)


class _InstantiatedModel(Model):
    """Base of generated classes; the class attribute ``_blueprint`` says what to build."""

    _blueprint: ModelBlueprint

    def __init__(self, observation_space: Any = None, action_space: Any = None, device: Any = None) -> None:
        Model.__init__(self, observation_space, action_space, device)
        for mixin in self._blueprint.mixins:
            MIXINS[mixin.name].__init__(self, **mixin.options, role=mixin.role)
        build_network(self, self._blueprint.definition, lambda modules: LayerChain(*modules), build_module,
                      _log_std_parameter)
        self._shared_output = None

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple:
        definition = self._blueprint.definition
        if isinstance(definition, SharedDefinition):
            return shared_outputs(self, definition, inputs, role, OPS)
        return network_outputs(self, definition, inputs, OPS)


def _shared_act(self: _InstantiatedModel, inputs: Mapping[str, Any], role: str) -> tuple:
    """``act`` of a shared model: the mixin of ``role`` acts."""
    for mixin in self._blueprint.mixins:
        if mixin.role == role:
            return MIXINS[mixin.name].act(self, inputs, role)
    raise ValueError(f"Invalid role: expected one of {[m.role for m in self._blueprint.mixins]}. Received: {role=}")


class TorchModelInstantiators(ModelInstantiators):
    """The instantiator functions for torch."""

    dialect = SourceDialect(render_module=render_module, render_log_std=_render_log_std, call_templates=_CALL_TEMPLATES,
                            forward_signature='compute(self, inputs, role="")')

    def _create(self, blueprint: ModelBlueprint, observation_space: Any, action_space: Any, device: Any) -> Model:
        namespace = {"_blueprint": blueprint, "__module__": __name__, "__init__": _InstantiatedModel.__init__}
        if blueprint.is_shared:
            namespace["act"] = _shared_act
        bases = tuple(MIXINS[m.name] for m in blueprint.mixins) + (_InstantiatedModel,)
        return type(blueprint.class_name, bases, namespace)(observation_space, action_space, device)


INSTANTIATORS = TorchModelInstantiators()
