"""Safe expressions for the model instantiators: parsed with ``ast`` into a small tree, never executed as Python.

An ``input``/``output`` string such as ``"concatenate([net, ACTIONS[:, -3:]]) * 2"`` becomes a tree of the nodes
below. Only tokens, container names, numbers, ``+ - * /``, indexing/slicing and calls to the activations,
``concatenate``, ``permute`` and ``one_hot_encoding`` are accepted; anything else raises ``ValueError``.
At forward time the tree is evaluated against an ``ExpressionScope`` whose backend ``ops`` do the array work;
for ``return_source`` it is rendered back to text with a backend ``call`` renderer.
"""

from __future__ import annotations

import ast
import dataclasses
import operator
from typing import Any, Callable, Collection, Optional, Protocol, Sequence

import gymnasium
import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "softsign", "selu", "softmax")
FUNCTIONS = {"concatenate": 1, "permute": 2, "one_hot_encoding": 2, **{name: 1 for name in ACTIVATIONS}}

INPUT_TOKENS = (
    "STATES", "OBSERVATIONS", "ACTIONS", "STATES_ACTIONS", "OBSERVATIONS_ACTIONS", "OBSERVATION_SPACE", "ACTION_SPACE",
)
_TOKEN_TEXT = {"STATES": "states", "OBSERVATIONS": "states", "ACTIONS": "taken_actions",
               "OBSERVATION_SPACE": "self.observation_space", "ACTION_SPACE": "self.action_space"}
_BINARY_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


class ExpressionOps(Protocol):
    """Array operations a backend supplies to evaluate expressions."""

    def activation(self, name: str, x: Any) -> Any: ...

    def concatenate(self, xs: Sequence[Any]) -> Any:
        """Concatenate on the feature axis (torch dim 1, JAX the last axis)."""

    def permute(self, x: Any, dims: Sequence[int]) -> Any: ...

    def one_hot(self, indices: Any, num_classes: int) -> Any:
        """Float one-hot encoding of a 1-D integer array."""


class ExpressionScope:
    """What names mean during one forward pass: the (unflattened) inputs, container outputs and the model."""

    def __init__(self, model: Any, ops: ExpressionOps, states: Any, taken_actions: Any) -> None:
        self.model = model
        self.ops = ops
        self.states = states
        self.taken_actions = taken_actions
        self.values: dict[str, Any] = {}

    def token(self, name: str) -> Any:
        if name in ("STATES", "OBSERVATIONS"):
            return self.states
        if "ACTIONS" in name and self.taken_actions is None:
            raise ValueError(f"The network input uses {name}, but the inputs have no 'taken_actions'")
        if name == "ACTIONS":
            return self.taken_actions
        if name in ("STATES_ACTIONS", "OBSERVATIONS_ACTIONS"):
            return self.ops.concatenate([self.states, self.taken_actions])
        if name == "OBSERVATION_SPACE":
            return self.model.observation_space
        return self.model.action_space


Renderer = Callable[[str, Sequence[str]], str]
"""Backend source text of a call: ``render("concatenate", ["[a, b]"])`` gives e.g. ``"torch.cat([a, b], dim=1)"``."""


def one_hot_sizes(space: Any) -> list[int]:
    """Number of classes of each column encoded by ``one_hot_encoding(space, x)``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return [int(space.n)]
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        return [int(n) for n in np.asarray(space.nvec).reshape(-1)]
    raise ValueError(f"Unsupported space ({space}): one_hot_encoding accepts Discrete and MultiDiscrete spaces")


def one_hot_encoding(space: Any, x: Any, ops: ExpressionOps) -> Any:
    """One-hot encode the index columns ``x`` (``(B, 1)`` or ``(B, k)``) of a Discrete/MultiDiscrete space."""
    return ops.concatenate([ops.one_hot(x[:, i], n) for i, n in enumerate(one_hot_sizes(space))])


class Expression:
    """A node of a parsed expression."""

    def evaluate(self, scope: ExpressionScope) -> Any:
        raise NotImplementedError

    def render(self, call: Renderer) -> str:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Constant(Expression):
    value: Any

    def evaluate(self, scope: ExpressionScope) -> Any:
        return self.value

    def render(self, call: Renderer) -> str:
        return "..." if self.value is Ellipsis else repr(self.value)


@dataclasses.dataclass(frozen=True)
class Token(Expression):
    name: str

    def evaluate(self, scope: ExpressionScope) -> Any:
        return scope.token(self.name)

    def render(self, call: Renderer) -> str:
        if self.name in _TOKEN_TEXT:
            return _TOKEN_TEXT[self.name]
        return call("concatenate", ["[states, taken_actions]"])


@dataclasses.dataclass(frozen=True)
class Variable(Expression):
    """The output of a container (a local variable of the forward pass)."""

    name: str

    def evaluate(self, scope: ExpressionScope) -> Any:
        return scope.values[self.name]

    def render(self, call: Renderer) -> str:
        return self.name


@dataclasses.dataclass(frozen=True)
class ModuleCall(Expression):
    """A model attribute called on an argument, e.g. the head ``self.policy_layer(net)`` of a shared model."""

    attribute: str
    argument: Expression

    def evaluate(self, scope: ExpressionScope) -> Any:
        return getattr(scope.model, self.attribute)(self.argument.evaluate(scope))

    def render(self, call: Renderer) -> str:
        return f"self.{self.attribute}({self.argument.render(call)})"


def _wrapped(node: Expression, call: Renderer) -> str:
    text = node.render(call)
    return f"({text})" if isinstance(node, (BinaryOp, Negative)) else text


@dataclasses.dataclass(frozen=True)
class BinaryOp(Expression):
    symbol: str
    left: Expression
    right: Expression

    def evaluate(self, scope: ExpressionScope) -> Any:
        return _OPERATORS[self.symbol](self.left.evaluate(scope), self.right.evaluate(scope))

    def render(self, call: Renderer) -> str:
        return f"{_wrapped(self.left, call)} {self.symbol} {_wrapped(self.right, call)}"


@dataclasses.dataclass(frozen=True)
class Negative(Expression):
    operand: Expression

    def evaluate(self, scope: ExpressionScope) -> Any:
        return -self.operand.evaluate(scope)

    def render(self, call: Renderer) -> str:
        return f"-{_wrapped(self.operand, call)}"


@dataclasses.dataclass(frozen=True)
class Slice(Expression):
    lower: Optional[Expression]
    upper: Optional[Expression]
    step: Optional[Expression]

    def evaluate(self, scope: ExpressionScope) -> Any:
        parts = [None if p is None else p.evaluate(scope) for p in (self.lower, self.upper, self.step)]
        return slice(*parts)

    def render(self, call: Renderer) -> str:
        parts = ["" if p is None else p.render(call) for p in (self.lower, self.upper, self.step)]
        return ":".join(parts if self.step is not None else parts[:2])


@dataclasses.dataclass(frozen=True)
class Items(Expression):
    """A tuple (index tuple, ``permute`` dims) or a list (``concatenate`` argument)."""

    items: tuple
    is_list: bool

    def evaluate(self, scope: ExpressionScope) -> Any:
        values = [item.evaluate(scope) for item in self.items]
        return values if self.is_list else tuple(values)

    def render(self, call: Renderer) -> str:
        text = ", ".join(item.render(call) for item in self.items)
        if self.is_list:
            return f"[{text}]"
        return f"({text},)" if len(self.items) == 1 else f"({text})"


@dataclasses.dataclass(frozen=True)
class Subscript(Expression):
    value: Expression
    index: Expression

    def evaluate(self, scope: ExpressionScope) -> Any:
        return self.value.evaluate(scope)[self.index.evaluate(scope)]

    def render(self, call: Renderer) -> str:
        index = self.index.render(call)
        if isinstance(self.index, Items) and not self.index.is_list:
            index = ", ".join(item.render(call) for item in self.index.items)
        return f"{_wrapped(self.value, call)}[{index}]"


@dataclasses.dataclass(frozen=True)
class Call(Expression):
    function: str
    arguments: tuple

    def evaluate(self, scope: ExpressionScope) -> Any:
        args = [argument.evaluate(scope) for argument in self.arguments]
        ops = scope.ops
        if self.function == "concatenate":
            return ops.concatenate(args[0])
        if self.function == "permute":
            return ops.permute(args[0], args[1])
        if self.function == "one_hot_encoding":
            return one_hot_encoding(args[0], args[1], ops)
        return ops.activation(self.function, args[0])

    def render(self, call: Renderer) -> str:
        return call(self.function, [argument.render(call) for argument in self.arguments])


class _Parser:
    """Converts a Python ``ast`` expression into ``Expression`` nodes, rejecting everything not listed."""

    def __init__(self, text: str, where: str, variables: Collection[str], tokens: Callable[[str], Optional[Expression]]):
        self.text, self.where, self.variables, self.tokens = text, where, variables, tokens

    def fail(self, reason: str) -> ValueError:
        return ValueError(f"Invalid {self.where}: {reason}. Received: {self.text!r}")

    def expression(self, node: ast.AST) -> Expression:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise self.fail(f"unsupported syntax {ast.unparse(node)!r} ({type(node).__name__}); allowed are tokens, "
                            "container names, numbers, + - * /, indexing and calls to " + ", ".join(FUNCTIONS))
        return handler(node)

    def _Constant(self, node: ast.Constant) -> Expression:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise self.fail(f"constant {node.value!r} is only allowed as an index")
        return Constant(node.value)

    def _Name(self, node: ast.Name) -> Expression:
        token = self.tokens(node.id)
        if token is not None:
            return token
        if node.id in self.variables:
            return Variable(node.id)
        allowed = ", ".join(list(self.variables)) or "none yet"
        raise self.fail(f"unknown name {node.id!r} (use a token, or the name of an earlier container: {allowed})")

    def _Attribute(self, node: ast.Attribute) -> Expression:
        if isinstance(node.value, ast.Name) and node.value.id == "Shape":
            token = self.tokens(node.attr)
            if token is not None:
                return token
        raise self.fail(f"attribute access {ast.unparse(node)!r} is not allowed (only Shape.<TOKEN>)")

    def _BinOp(self, node: ast.BinOp) -> Expression:
        if type(node.op) not in _BINARY_OPS:
            raise self.fail(f"operator in {ast.unparse(node)!r} is not allowed (only + - * /)")
        return BinaryOp(_BINARY_OPS[type(node.op)], self.expression(node.left), self.expression(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> Expression:
        if isinstance(node.op, ast.USub):
            return Negative(self.expression(node.operand))
        if isinstance(node.op, ast.UAdd):
            return self.expression(node.operand)
        raise self.fail(f"operator in {ast.unparse(node)!r} is not allowed (only + - * /)")

    def _Subscript(self, node: ast.Subscript) -> Expression:
        return Subscript(self.expression(node.value), self.index(node.slice))

    def index(self, node: ast.AST) -> Expression:
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, str, type(...)))):
            return Constant(node.value)
        if isinstance(node, ast.Slice):
            return Slice(*[None if p is None else self.index(p) for p in (node.lower, node.upper, node.step)])
        if isinstance(node, ast.Tuple):
            return Items(tuple(self.index(item) for item in node.elts), is_list=False)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Negative(self.index(node.operand))
        raise self.fail(f"index {ast.unparse(node)!r} is not allowed (use numbers, strings and slices)")

    def _Call(self, node: ast.Call) -> Expression:
        name = node.func.id.lower() if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise self.fail(f"call of {ast.unparse(node.func)!r} is not allowed (allowed: {', '.join(FUNCTIONS)})")
        if node.keywords or len(node.args) != FUNCTIONS[name]:
            raise self.fail(f"{name}() takes {FUNCTIONS[name]} positional argument(s) and no keywords")
        if name == "concatenate":
            return Call(name, (self.sequence(node.args[0], self.expression, is_list=True),))
        if name == "permute":
            return Call(name, (self.expression(node.args[0]), self.sequence(node.args[1], self.integer, is_list=False)))
        return Call(name, tuple(self.expression(arg) for arg in node.args))

    def sequence(self, node: ast.AST, item: Callable[[ast.AST], Expression], is_list: bool) -> Expression:
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise self.fail(f"expected a list or tuple, got {ast.unparse(node)!r}")
        return Items(tuple(item(element) for element in node.elts), is_list=is_list)

    def integer(self, node: ast.AST) -> Expression:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Negative(self.integer(node.operand))
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return Constant(node.value)
        raise self.fail(f"expected an integer, got {ast.unparse(node)!r}")


def parse_expression(
    text: str, where: str, variables: Collection[str], tokens: Callable[[str], Optional[Expression]]
) -> Expression:
    """Parse ``text`` into an ``Expression``.

    Args:
        text: the expression, e.g. ``"STATES[:, :3]"``.
        where: what the text is, for error messages (e.g. ``"input of container 'net'"``).
        variables: container names that may be referenced.
        tokens: maps an upper-case token name to its node, or None when it is not a token here.
    """
    if not isinstance(text, str):
        raise ValueError(f"Invalid {where}: expected a string expression. Received: {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"Invalid {where}: not a valid expression ({e.msg}). Received: {text!r}") from None
    return _Parser(text, where, variables, tokens).expression(tree.body)


def input_token(name: str) -> Optional[Expression]:
    """Tokens of ``input`` expressions (``STATE_SPACE`` is refused: models have no state space)."""
    if name == "STATE_SPACE":
        raise ValueError("Invalid token STATE_SPACE: models have no state space; use OBSERVATION_SPACE")
    return Token(name) if name in INPUT_TOKENS else None
