"""Backend-free core of the model instantiators: parse a declarative ``network``/``output`` description once.

The result is a ``NetworkDefinition`` (or ``SharedDefinition``): containers with their layer specs and parsed
input expressions, and the output expression. Backends turn the layer specs into torch or Flax modules and
run ``network_outputs``/``shared_outputs`` in their forward pass. Nothing is ever executed from the
description; expressions are parsed by ``skrl.common._model_expressions``.

Example::

    network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "elu"}]
    output = "2 * tanh(ACTIONS)"

gives one container ``net`` (Linear 64, ELU, Linear 64, ELU, Linear num_actions: the head is appended) and the
output ``2 * tanh(net)``.
"""

from __future__ import annotations

import dataclasses
import enum
import keyword
from typing import Any, Callable, Mapping, Optional, Sequence

from skrl._logging import logger
from skrl.common._model_expressions import (
    ACTIVATIONS,
    INPUT_TOKENS,
    Expression,
    ExpressionOps,
    ExpressionScope,
    ModuleCall,
    Token,
    Variable,
    input_token,
    parse_expression,
)
from skrl.common.spaces import unflatten_tensorized_space

DEPRECATION_URL = "https://skrl.readthedocs.io/en/latest/api/utils/model_instantiators.html"


class Shape(enum.Enum):
    """Sizes of pre-1.3.0 definitions (``Shape.STATES`` ...); tokens may still be written as ``Shape.<NAME>``."""

    ONE = 1
    STATES = 0
    OBSERVATIONS = 0
    ACTIONS = -1
    STATES_ACTIONS = -2


_SIZE_TOKENS = ("ONE", "STATES", "OBSERVATIONS", "ACTIONS", "STATES_ACTIONS", "OBSERVATIONS_ACTIONS")
_OUTPUT_TOKENS = ("ONE", "ACTIONS")  # if both appear, ONE wins


def _token_name(value: Any) -> Optional[str]:
    """``"ACTIONS"`` for ``"ACTIONS"``, ``"Shape.ACTIONS"`` or ``Shape.ACTIONS``; None for anything else."""
    if isinstance(value, Shape):
        return value.name
    if isinstance(value, str):
        name = value.strip()
        return name[len("Shape."):] if name.startswith("Shape.") else name
    return None


@dataclasses.dataclass(frozen=True)
class Units:
    """A layer size written as a token (``ACTIONS``...), resolved against the model's sizes."""

    token: str

    def resolve(self, num_observations: int, num_actions: int) -> int:
        sizes = {"ONE": 1, "STATES": num_observations, "OBSERVATIONS": num_observations, "ACTIONS": num_actions}
        return sizes.get(self.token, (num_observations or 0) + (num_actions or 0))

    def render(self) -> str:
        texts = {"ONE": "1", "STATES": "self.num_observations", "OBSERVATIONS": "self.num_observations",
                 "ACTIONS": "self.num_actions"}
        return texts.get(self.token, "self.num_observations + self.num_actions")


def resolve_kwargs(kwargs: Mapping[str, Any], num_observations: int, num_actions: int) -> dict:
    return {k: v.resolve(num_observations, num_actions) if isinstance(v, Units) else v for k, v in kwargs.items()}


def literal(value: Any) -> str:
    """Source text of an option value (double-quoted strings, ``self.num_actions`` for ``Units``...)."""
    if isinstance(value, Units):
        return value.render()
    return f'"{value}"' if isinstance(value, str) and '"' not in value else repr(value)


def render_kwargs(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={literal(v)}" for k, v in kwargs.items())


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One entry of a container: ``kind`` is linear, conv2d, flatten or activation; options use torch names."""

    kind: str
    options: dict = dataclasses.field(default_factory=dict)


_LAYER_ARGUMENTS = {
    "linear": ("out_features", "bias"),
    "conv2d": ("out_channels", "kernel_size", "stride", "padding", "bias"),
    "flatten": ("start_dim", "end_dim"),
}
_LAYER_OPTIONS = {
    "linear": ("out_features", "bias", "in_features"),
    "conv2d": ("out_channels", "kernel_size", "stride", "padding", "bias", "in_channels"),
    "flatten": ("start_dim", "end_dim"),
}
_ALIASES = {
    "linear": {"features": "out_features", "use_bias": "bias"},
    "conv2d": {"features": "out_channels", "strides": "stride", "use_bias": "bias"},
    "flatten": {},
}


def _units(value: Any, layer: Any) -> Any:
    name = _token_name(value)
    if name in _SIZE_TOKENS:
        return Units(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid or unsupported layer definition: {layer} (sizes are positive ints or size tokens)")
    return value


def _layer_options(kind: str, value: Any, layer: Any) -> dict:
    if value is None or (kind == "linear" and not isinstance(value, (list, tuple, dict))):
        options = {} if value is None else {"out_features": value}
    elif isinstance(value, (list, tuple)):
        if len(value) > len(_LAYER_ARGUMENTS[kind]):
            raise ValueError(f"Invalid or unsupported '{kind}' layer definition: {layer} "
                             f"(at most {list(_LAYER_ARGUMENTS[kind])})")
        options = dict(zip(_LAYER_ARGUMENTS[kind], value))
    elif isinstance(value, dict):
        options = {_ALIASES[kind].get(k, k): v for k, v in value.items()}
    else:
        raise ValueError(f"Invalid or unsupported '{kind}' layer definition: {layer}")
    unknown = [k for k in options if k not in _LAYER_OPTIONS[kind]]
    if unknown:
        raise ValueError(f"Invalid or unsupported '{kind}' layer definition: {layer} (unknown options {unknown}; "
                         f"allowed: {list(_LAYER_OPTIONS[kind])})")
    for size_key in ("out_features", "in_features"):
        if size_key in options:
            options[size_key] = _units(options[size_key], layer)
    return options


def parse_layer(layer: Any) -> LayerSpec:
    """A layer spec: a number (linear units), ``"flatten"``, or ``{type: int | list | dict}`` (see 5.4 of the docs)."""
    if isinstance(layer, (int, Shape)) and not isinstance(layer, bool):
        return LayerSpec("linear", {"out_features": _units(layer, layer)})
    if isinstance(layer, str):
        if layer.strip().lower() != "flatten":
            raise ValueError(f"Invalid or unsupported layer: {layer!r} (a bare string must be 'flatten')")
        return LayerSpec("flatten")
    if isinstance(layer, dict) and len(layer) == 1:
        (kind, value), = layer.items()
        kind = str(kind).lower()
        if kind not in _LAYER_OPTIONS:
            raise ValueError(f"Invalid or unsupported layer: {kind} (allowed: {', '.join(_LAYER_OPTIONS)})")
        return LayerSpec(kind, _layer_options(kind, value, layer))
    raise ValueError(f"Invalid or unsupported layer definition: {layer}")


def activation_names(activations: Any, num_layers: int) -> list[Optional[str]]:
    """One activation name (or None) per layer: a string applies to all, a list has 0, 1 or one per layer."""
    if activations is None or isinstance(activations, str):
        activations = [] if not activations else [activations]
    if not isinstance(activations, (list, tuple)):
        raise ValueError(f"Invalid activations: expected a string or a list of strings. Received: {activations!r}")
    if len(activations) not in (0, 1, num_layers):
        raise ValueError(f"Activations length ({len(activations)}) don't match layers ({num_layers})")
    names = list(activations) * num_layers if len(activations) == 1 else list(activations) or [None] * num_layers
    for name in names:
        if name and str(name).lower() not in ACTIVATIONS:
            raise ValueError(f"Invalid activation: {name!r}. Allowed (case-insensitive): {', '.join(ACTIVATIONS)}")
    return [str(name).lower() if name else None for name in names]


def container_modules(layers: Sequence[Any], activations: Any) -> list[LayerSpec]:
    """Layers interleaved with their activations (none after ``flatten``, which still uses its slot)."""
    if not isinstance(layers, (list, tuple)):
        raise ValueError(f"Invalid layers: expected a list of layer specs. Received: {layers!r}")
    modules = []
    for layer, activation in zip(layers, activation_names(activations, len(layers))):
        spec = parse_layer(layer)
        modules.append(spec)
        if activation and spec.kind != "flatten":
            modules.append(LayerSpec("activation", {"name": activation}))
    return modules


@dataclasses.dataclass(frozen=True)
class ContainerSpec:
    """A named ``Sequential`` (attribute ``<name>_container``) applied to its input expression."""

    name: str
    input: Expression
    modules: tuple

    @property
    def attribute(self) -> str:
        return f"{self.name}_container"


_CONTAINER_KEYS = ("name", "input", "layers", "activations")
_RESERVED_NAMES = tuple(dict.fromkeys(_SIZE_TOKENS + INPUT_TOKENS + ("STATE_SPACE", "Shape")))


def _container_name(name: Any, taken: Sequence[str]) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"Invalid container name: expected a Python identifier not starting with '_'. Received: {name!r}")
    if name in _RESERVED_NAMES:
        raise ValueError(f"Invalid container name: {name!r} is a token (reserved: {', '.join(_RESERVED_NAMES)})")
    if name in taken:
        raise ValueError(f"Invalid container name: {name!r} is used twice")
    return name


def parse_network(network: Any) -> tuple[ContainerSpec, ...]:
    """Containers of a ``network`` list (each a dict with name, input, layers and optional activations)."""
    if not isinstance(network, (list, tuple)) or not network:
        raise ValueError(f"Invalid network: expected a non-empty list of containers. Received: network={network!r}")
    containers: list[ContainerSpec] = []
    for item in network:
        if not isinstance(item, Mapping) or any(k not in _CONTAINER_KEYS for k in item):
            raise ValueError(f"Invalid network container: expected a dict with keys {list(_CONTAINER_KEYS)}. "
                             f"Received: {item!r}")
        missing = [k for k in _CONTAINER_KEYS[:3] if k not in item]
        if missing:
            raise ValueError(f"Invalid network container: missing {missing}. Received: {item!r}")
        names = [c.name for c in containers]
        name = _container_name(item["name"], names)
        text = str(item["input"]) if isinstance(item["input"], Shape) else item["input"]
        expression = parse_expression(text, f"input of container {name!r}", names, input_token)
        modules = container_modules(item["layers"], item.get("activations", []))
        containers.append(ContainerSpec(name, expression, tuple(modules)))
    return tuple(containers)


def _output_text(output: Any) -> str:
    if isinstance(output, Shape):
        return str(output)
    if not isinstance(output, str):
        raise ValueError(f"Invalid or unsupported network output definition: {output!r} (expected a string expression)")
    return output


def output_token(output: Any, names: Sequence[str]) -> Optional[str]:
    """The head token of an output expression (``ONE`` wins over ``ACTIONS``), or None for no head."""
    text = _output_text(output)
    if not text.strip():
        return None
    seen = []

    def record(name: str) -> Optional[Expression]:
        if name in _OUTPUT_TOKENS:
            seen.append(name)
            return Token(name)
        return None

    parse_expression(text, "network output", names, record)
    return next((token for token in _OUTPUT_TOKENS if token in seen), None)


def parse_output(output: Any, names: Sequence[str], head: Expression) -> Expression:
    """The output expression with its token replaced by ``head``; empty means the last container's output."""
    text = _output_text(output)
    if not text.strip():
        return Variable(names[-1])
    return parse_expression(text, "network output", names, lambda n: head if n in _OUTPUT_TOKENS else None)


@dataclasses.dataclass(frozen=True)
class LogStdSpec:
    """The Gaussian ``log_std_parameter``: shape ``(size,)`` filled with ``initial``; ``fixed`` disables learning."""

    initial: float
    fixed: bool
    size: Units


@dataclasses.dataclass(frozen=True)
class NetworkDefinition:
    """A single-role model: containers (the last one ends with the head, if any) and the output expression."""

    containers: tuple
    output: Expression
    log_std: Optional[LogStdSpec] = None


def build_definition(network: Any, output: Any, log_std: Optional[tuple[float, bool]] = None) -> NetworkDefinition:
    """Parse a single model; ``log_std=(initial, fixed)`` for Gaussian models."""
    containers = parse_network(network)
    names = [c.name for c in containers]
    token = output_token(output, names)
    if token is not None:
        last = containers[-1]
        head = LayerSpec("linear", {"out_features": Units(token)})
        containers = containers[:-1] + (dataclasses.replace(last, modules=last.modules + (head,)),)
    expression = parse_output(output, names, Variable(names[-1]))
    spec = None if log_std is None else LogStdSpec(float(log_std[0]), bool(log_std[1]), Units(token or "ACTIONS"))
    return NetworkDefinition(containers, expression, spec)


def build_network(model: Any, definition: Any, sequential: Callable[[list], Any],
                  module: Callable[[LayerSpec, int, int], Any], log_std: Callable[[LogStdSpec, int], Any]) -> None:
    """Create a model's containers (``<name>_container``), heads (``<role>_layer``) and ``log_std_parameter``.

    The backend supplies the factories: ``sequential(modules)``, ``module(spec, num_observations, num_actions)``
    and ``log_std(spec, size)``.
    """
    sizes = (model.num_observations, model.num_actions)
    for container in definition.containers:
        setattr(model, container.attribute, sequential([module(m, *sizes) for m in container.modules]))
    for role in getattr(definition, "roles", ()):
        if role.head is not None:
            setattr(model, role.attribute, module(role.head, *sizes))
    if definition.log_std is not None:
        model.log_std_parameter = log_std(definition.log_std, definition.log_std.size.resolve(*sizes))


def run_containers(model: Any, containers: Sequence[ContainerSpec], inputs: Mapping[str, Any],
                   ops: ExpressionOps) -> ExpressionScope:
    """Unflatten the inputs and run the containers in order (each on its input expression)."""
    scope = ExpressionScope(
        model,
        ops,
        unflatten_tensorized_space(model.observation_space, inputs.get("states")),
        unflatten_tensorized_space(model.action_space, inputs.get("taken_actions")),
    )
    for container in containers:
        scope.values[container.name] = getattr(model, container.attribute)(container.input.evaluate(scope))
    return scope


def network_outputs(model: Any, definition: NetworkDefinition, inputs: Mapping[str, Any], ops: ExpressionOps) -> tuple:
    """``compute``/``__call__`` of an instantiated model: ``(output, log_std, {})`` or ``(output, {})``."""
    scope = run_containers(model, definition.containers, inputs, ops)
    output = definition.output.evaluate(scope)
    return (output, model.log_std_parameter, {}) if definition.log_std is not None else (output, {})


MIXIN_NAMES = ("GaussianMixin", "MultivariateGaussianMixin", "CategoricalMixin", "MultiCategoricalMixin",
               "DeterministicMixin")
GAUSSIAN_MIXINS = ("GaussianMixin", "MultivariateGaussianMixin")
_SHARED_DEFAULTS = {"unnormalized_log_prob": True, "reduction": "sum", "clip_actions": False, "clip_log_std": True,
                    "min_log_std": -20, "max_log_std": 2, "initial_log_std": 0, "fixed_log_std": False}
_MIXIN_OPTIONS = {
    "GaussianMixin": ("clip_actions", "clip_log_std", "min_log_std", "max_log_std", "reduction"),
    "MultivariateGaussianMixin": ("clip_actions", "clip_log_std", "min_log_std", "max_log_std"),
    "CategoricalMixin": ("unnormalized_log_prob",),
    "MultiCategoricalMixin": ("unnormalized_log_prob", "reduction"),
    "DeterministicMixin": ("clip_actions",),
}


@dataclasses.dataclass(frozen=True)
class MixinSpec:
    """A mixin of a generated class with its constructor options (and role, for shared models)."""

    name: str
    options: dict
    role: str = ""


@dataclasses.dataclass(frozen=True)
class RoleSpec:
    """One role of a shared model: its head layer (``<role>_layer``, if any) and output expression."""

    role: str
    head: Optional[LayerSpec]
    output: Expression

    @property
    def attribute(self) -> str:
        return f"{self.role}_layer"


@dataclasses.dataclass(frozen=True)
class SharedDefinition:
    """A two-role model (torch ``shared_model``): a trunk from the first role's network and one head per role."""

    containers: tuple
    roles: tuple
    single_forward_pass: bool
    log_std: Optional[LogStdSpec] = None
    gaussian_roles: tuple = ()


def mixin_name(name: Any) -> str:
    """Canonical mixin class name, matched case-insensitively (``"gaussianmixin"`` gives ``"GaussianMixin"``)."""
    for candidate in MIXIN_NAMES:
        if isinstance(name, str) and name.lower() == candidate.lower():
            return candidate
    raise ValueError(f"Unknown class: {name} (allowed: {', '.join(MIXIN_NAMES)})")


def _shared_role(role: Any, parameters: Mapping[str, Any], names: Sequence[str], last: str) -> RoleSpec:
    if not isinstance(role, str) or not role.isidentifier():
        raise ValueError(f"Invalid role: expected a Python identifier. Received: {role!r}")
    output = parameters.get("output", "")
    token = output_token(output, names)
    head = None if token is None else LayerSpec("linear", {"out_features": Units(token)})
    reference = ModuleCall(f"{role}_layer", Variable(last)) if head is not None else Variable(last)
    return RoleSpec(role, head, parse_output(output, names, reference))


def build_shared_definition(structure: Sequence[Any], roles: Sequence[Any], parameters: Sequence[Mapping[str, Any]],
                            single_forward_pass: bool) -> tuple[tuple[MixinSpec, ...], SharedDefinition]:
    """Parse a shared model: mixins (with options and role) and the trunk/heads definition."""
    if not (len(structure) == len(roles) == len(parameters) == 2):
        raise ValueError(f"Invalid configuration: structure ({len(structure)}), roles ({len(roles)}) and parameters "
                         f"({len(parameters)}) must each have 2 entries")
    names_ = [mixin_name(name) for name in structure]
    if names_[0] == names_[1] or roles[0] == roles[1]:
        raise ValueError(f"Invalid configuration: the two mixins and the two roles must differ. "
                         f"Received: structure={list(structure)}, roles={list(roles)}")
    containers = parse_network(parameters[0].get("network", []))
    names = [c.name for c in containers]
    role_specs = tuple(_shared_role(r, p, names, names[-1]) for r, p in zip(roles, parameters))
    mixins, log_std, gaussian_roles = [], None, []
    for name, role, params, spec in zip(names_, roles, parameters, role_specs):
        options = {k: params.get(k, _SHARED_DEFAULTS[k]) for k in _MIXIN_OPTIONS[name]}
        mixins.append(MixinSpec(name, options, role))
        if name in GAUSSIAN_MIXINS:
            gaussian_roles.append(role)
            if log_std is None:
                size = spec.head.options["out_features"] if spec.head is not None else Units("ACTIONS")
                log_std = LogStdSpec(float(params.get("initial_log_std", 0)), bool(params.get("fixed_log_std", False)), size)
    definition = SharedDefinition(containers, role_specs, bool(single_forward_pass), log_std, tuple(gaussian_roles))
    return tuple(mixins), definition


def shared_outputs(model: Any, definition: SharedDefinition, inputs: Mapping[str, Any], role: str,
                   ops: ExpressionOps) -> tuple:
    """``compute`` of a shared model. With ``single_forward_pass`` the first role caches the trunk for the second.

    The cache is ``model._shared_output`` (None when empty), used once by the second role; call the first role
    first on the same states (as PPO does: policy, then value).
    """
    first, second = definition.roles
    spec = first if role == first.role else second if role == second.role else None
    if spec is None:
        raise ValueError(f"Invalid role: expected one of {[first.role, second.role]}. Received: role={role!r}")
    scope = model._shared_output if (definition.single_forward_pass and spec is second) else None
    model._shared_output = None
    if scope is None:
        scope = run_containers(model, definition.containers, inputs, ops)
        if definition.single_forward_pass and spec is first:
            model._shared_output = scope
    output = spec.output.evaluate(scope)
    return (output, model.log_std_parameter, {}) if role in definition.gaussian_roles else (output, {})


def convert_deprecated_parameters(parameters: Mapping[str, Any]) -> tuple[list, str]:
    """Turn pre-1.3.0 arguments (``input_shape``, ``hiddens``, ``hidden_activation``, ``output_shape``,
    ``output_activation``, ``output_scale``) into ``(network, output)``."""
    known = ("input_shape", "hiddens", "hidden_activation", "output_shape", "output_activation", "output_scale")
    unknown = [k for k in parameters if k not in known]
    if unknown:
        raise TypeError(f"Unexpected keyword arguments {unknown}: the only extra (deprecated) arguments are {list(known)}")
    logger.warning(f"The following parameters ({', '.join(parameters)}) are deprecated. See {DEPRECATION_URL}")
    activations = parameters.get("hidden_activation", [])
    if isinstance(activations, (list, tuple)) and activations and all(a == activations[0] for a in activations):
        activations = activations[0]
    network = [{"name": "net", "input": str(parameters.get("input_shape", "STATES")),
                "layers": list(parameters.get("hiddens", [])), "activations": activations}]
    output = str(parameters.get("output_shape", "ACTIONS"))
    if parameters.get("output_activation"):
        output = f"{parameters['output_activation']}({output})"
    if parameters.get("output_scale", 1.0) != 1.0:
        output = f"{parameters['output_scale']} * {output}"
    return network, output
