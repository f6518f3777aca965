"""Readable class-definition source for ``return_source=True`` of the model instantiators.

The text is generated from a parsed definition for display only; it is never executed. The layout is written
once here; a backend ``SourceDialect`` supplies how its modules, calls and log-std parameter are spelt.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Optional, Sequence

from skrl.common.model_instantiators import (
    LayerSpec,
    LogStdSpec,
    MixinSpec,
    NetworkDefinition,
    SharedDefinition,
    literal,
)

_I2, _I3, _I4 = " " * 8, " " * 12, " " * 16


@dataclasses.dataclass(frozen=True)
class SourceDialect:
    """How a backend spells a generated model class."""

    render_module: Callable[[LayerSpec], str]
    render_log_std: Callable[[LogStdSpec], str]
    call_templates: Mapping[str, str]
    """Text of calls by function name, with ``{0}``, ``{1}`` for the arguments; ``"activation"`` is the default
    (with ``{name}`` for the activation), e.g. ``{"concatenate": "torch.cat({0}, dim=1)"}``."""
    forward_signature: str
    """e.g. ``'compute(self, inputs, role="")'``"""
    sequential: tuple = ("nn.Sequential(", ")")
    layers_method: Optional[str] = None
    """Name of the method that builds the layers (Flax ``setup``); None: they are built in ``__init__``."""
    extra_kwargs: bool = False
    """Whether the constructor forwards ``**kwargs`` (Flax ``parent``/``name``) to ``Model.__init__``."""


    def render_call(self, function: str, args: Sequence[str]) -> str:
        template = self.call_templates.get(function, self.call_templates["activation"])
        return template.format(*args, name=function)


@dataclasses.dataclass(frozen=True)
class ModelBlueprint:
    """Everything needed to build (or display) a generated model class."""

    class_name: str
    mixins: tuple
    definition: Any  # NetworkDefinition or SharedDefinition

    @property
    def is_shared(self) -> bool:
        return isinstance(self.definition, SharedDefinition)


def _init_lines(blueprint: ModelBlueprint, dialect: SourceDialect) -> list[str]:
    kwargs = ", **kwargs" if dialect.extra_kwargs else ""
    params = ""
    if not blueprint.is_shared:
        params = "".join(f", {k}={literal(v)}" for k, v in blueprint.mixins[0].options.items()) + ', role=""'
    lines = [f"    def __init__(self, observation_space, action_space, device=None{params}{kwargs}):",
             f"{_I2}Model.__init__(self, observation_space, action_space, device{kwargs})"]
    for mixin in blueprint.mixins:
        lines.append(f"{_I2}{mixin.name}.__init__(self, {_mixin_arguments(mixin, blueprint.is_shared)})")
    return lines


def _mixin_arguments(mixin: MixinSpec, baked: bool) -> str:
    values = {**mixin.options, "role": mixin.role}
    return ", ".join(f"{k}={literal(v)}" if baked else f"{k}={k}" for k, v in values.items())


def _sequential_lines(attribute: str, modules: Sequence[LayerSpec], dialect: SourceDialect) -> list[str]:
    opening, closing = dialect.sequential
    return ([f"{_I2}self.{attribute} = {opening}"] + [f"{_I3}{dialect.render_module(m)}," for m in modules]
            + [f"{_I2}{closing}"])


def _layer_lines(definition: Any, dialect: SourceDialect) -> list[str]:
    lines = []
    for container in definition.containers:
        lines += _sequential_lines(container.attribute, container.modules, dialect)
    for role in getattr(definition, "roles", ()):
        if role.head is not None:
            lines.append(f"{_I2}self.{role.attribute} = {dialect.render_module(role.head)}")
    if definition.log_std is not None:
        lines.append(f"{_I2}{dialect.render_log_std(definition.log_std)}")
    if isinstance(definition, SharedDefinition):
        lines.append(f"{_I2}self._shared_output = None")
    return lines


def _trunk_lines(definition: Any, dialect: SourceDialect, indent: str) -> list[str]:
    lines = [f'{indent}states = unflatten_tensorized_space(self.observation_space, inputs.get("states"))',
             f'{indent}taken_actions = unflatten_tensorized_space(self.action_space, inputs.get("taken_actions"))']
    for container in definition.containers:
        lines.append(f"{indent}{container.name} = self.{container.attribute}"
                     f"({container.input.render(dialect.render_call)})")
    return lines


def _return_line(definition: Any, role: str, indent: str) -> str:
    gaussian = (role in definition.gaussian_roles) if isinstance(definition, SharedDefinition) else definition.log_std
    return f"{indent}return output, self.log_std_parameter, {{}}" if gaussian else f"{indent}return output, {{}}"


def _single_forward_lines(definition: NetworkDefinition, dialect: SourceDialect) -> list[str]:
    return (_trunk_lines(definition, dialect, _I2)
            + [f"{_I2}output = {definition.output.render(dialect.render_call)}", _return_line(definition, "", _I2)])


def _shared_forward_lines(blueprint: ModelBlueprint, dialect: SourceDialect) -> list[str]:
    definition: SharedDefinition = blueprint.definition
    first, second = definition.roles
    names = ", ".join(c.name for c in definition.containers)
    lines = ["    def act(self, inputs, role):"]
    for mixin in blueprint.mixins:
        lines += [f"{_I2}if role == {literal(mixin.role)}:", f"{_I3}return {mixin.name}.act(self, inputs, role)"]
    lines += [f'{_I2}raise ValueError(f"Invalid role: {{role!r}}")', "", f"    def {dialect.forward_signature}:"]
    if definition.single_forward_pass:
        lines += [f"{_I2}if role == {literal(second.role)} and self._shared_output is not None:",
                  f"{_I3}{names}, = self._shared_output", f"{_I3}self._shared_output = None", f"{_I2}else:"]
        lines += _trunk_lines(definition, dialect, _I3)
        lines += [f"{_I3}if role == {literal(first.role)}:", f"{_I4}self._shared_output = ({names},)"]
    else:
        lines += _trunk_lines(definition, dialect, _I2)
    for role in definition.roles:
        lines += [f"{_I2}if role == {literal(role.role)}:", f"{_I3}output = {role.output.render(dialect.render_call)}",
                  _return_line(definition, role.role, _I3)]
    lines.append(f'{_I2}raise ValueError(f"Invalid role: {{role!r}}")')
    return lines


def render_model_source(blueprint: ModelBlueprint, dialect: SourceDialect) -> str:
    """The class definition of ``blueprint`` as text (free names: ``Model``, mixins, ``nn``, the array module,
    ``unflatten_tensorized_space`` and ``one_hot_encoding``)."""
    bases = ", ".join([m.name for m in blueprint.mixins] + ["Model"])
    lines = [f"class {blueprint.class_name}({bases}):"] + _init_lines(blueprint, dialect)
    layers = _layer_lines(blueprint.definition, dialect)
    if dialect.layers_method:
        lines += ["", f"    def {dialect.layers_method}(self):"] + layers
    else:
        lines += [""] + layers
    if blueprint.is_shared:
        lines += [""] + _shared_forward_lines(blueprint, dialect)
    else:
        lines += ["", f"    def {dialect.forward_signature}:"] + _single_forward_lines(blueprint.definition, dialect)
    return "\n".join(lines) + "\n"
