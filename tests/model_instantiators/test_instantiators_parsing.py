"""Backend-free parsing of instantiator definitions: layers, activations, safe expressions, deprecated arguments."""

import pytest

from skrl.common._model_expressions import input_token, parse_expression
from skrl.common.model_instantiators import (
    Shape,
    Units,
    build_definition,
    container_modules,
    convert_deprecated_parameters,
    parse_layer,
)

TOKENS = ["STATES", "OBSERVATIONS", "ACTIONS", "STATES_ACTIONS", "OBSERVATIONS_ACTIONS", "OBSERVATION_SPACE",
          "ACTION_SPACE"]


def render(text, variables=()):
    templates = {"concatenate": "cat({0})", "activation": "{name}({0})", "permute": "permute({0}, {1})",
                 "one_hot_encoding": "one_hot_encoding({0}, {1})"}
    expression = parse_expression(text, "input", list(variables), input_token)
    return expression.render(lambda f, args: templates.get(f, templates["activation"]).format(*args, name=f))


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("prefix", ["", "Shape."])
def test_every_token_is_replaced(token, prefix):
    text = render(prefix + token)
    assert not any(t in text for t in TOKENS), text


def test_documented_expression_renders():
    text = render('OBSERVATIONS["joint"] + concatenate([net * ACTIONS[:, -3:]])', ["net"])
    assert text == "states['joint'] + cat([net * taken_actions[:, -3:]])"


UNSAFE = [
    "__import__('os')",
    "__import__('os').system('echo hacked')",
    "eval('1 + 1')",
    "exec('x = 1')",
    "open('/etc/passwd')",
    "os.system('ls')",
    "STATES.__class__",
    "getattr(STATES, 'shape')",
    "lambda x: x",
    "[x for x in STATES]",
    "STATES ** 2",
    "STATES if True else ACTIONS",
    "torch.cat([STATES])",
    "net",  # not an earlier container
    "relu(STATES, inplace=True)",
    "STATES[__import__('os')]",
    "STATE_SPACE",
    "STATES; import os",
]


@pytest.mark.parametrize("text", UNSAFE)
def test_unsafe_or_unknown_expressions_are_rejected(text):
    with pytest.raises(ValueError, match="Invalid"):
        parse_expression(text, "input of container 'x'", [], input_token)


# layers, activations, number of modules (5.11)
MODULE_COUNTS = [
    ([8, 8, 8, 8, 8], "relu", 10),
    ([{"conv2d": [8, 3]}, {"conv2d": {"features": 8, "kernel_size": 3}}, {"conv2d": [8, 3, 1, 0, True]}], ["elu"], 6),
    (["flatten", {"flatten": [1, -1]}, {"flatten": {"start_dim": 1}}], ["relu", "tanh", "elu"], 3),
    ([1] * 9, ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "softsign", "selu", "softmax"], 18),
    ([{"linear": {"in_features": "STATES", "out_features": "ONE"}}, {"conv2d": {"in_channels": 3, "out_channels": 2,
                                                                               "kernel_size": 1}}], [], 2),
]


@pytest.mark.parametrize("layers, activations, count", MODULE_COUNTS)
def test_module_counts(layers, activations, count):
    assert len(container_modules(layers, activations)) == count


def test_layer_specs_and_aliases():
    assert parse_layer(32).options == {"out_features": 32}
    assert parse_layer({"linear": [16, False]}).options == {"out_features": 16, "bias": False}
    assert parse_layer({"Linear": {"features": "ACTIONS", "use_bias": True}}).options == {
        "out_features": Units("ACTIONS"), "bias": True}
    assert parse_layer({"conv2d": {"features": 4, "strides": 2, "kernel_size": 3}}).options == {
        "out_channels": 4, "stride": 2, "kernel_size": 3}
    assert Units("STATES_ACTIONS").resolve(5, 3) == 8 and Units("ONE").resolve(5, 3) == 1


@pytest.mark.parametrize("layers, activations, match", [
    ([{"lstm": 8}], [], "Invalid or unsupported layer: lstm"),
    (["dense"], [], "Invalid or unsupported layer"),
    ([{"linear": {"units": 8}}], [], "unknown options"),
    ([3.5], [], "Invalid or unsupported layer definition"),
    ([8, 8, 8], ["relu", "tanh"], r"Activations length \(2\) don't match layers \(3\)"),
    ([8], "swish", "Invalid activation: 'swish'"),
])
def test_invalid_layers_raise(layers, activations, match):
    with pytest.raises(ValueError, match=match):
        container_modules(layers, activations)


@pytest.mark.parametrize("output, match", [
    (["ACTIONS"], "Invalid or unsupported network output definition"),
    (3, "Invalid or unsupported network output definition"),
    ("STATES", "unknown name 'STATES'"),
    ("concatenate([net, ACTIONS], axis=-1)", "no keywords"),
])
def test_invalid_outputs_raise(output, match):
    with pytest.raises(ValueError, match=match):
        build_definition([{"name": "net", "input": "STATES", "layers": [4]}], output)


@pytest.mark.parametrize("network, match", [
    ([], "non-empty list"),
    ([{"name": "net", "layers": [4]}], "missing"),
    ([{"name": "net", "input": "STATES", "layers": [4], "activation": "relu"}], "expected a dict with keys"),
    ([{"name": "2net", "input": "STATES", "layers": [4]}], "identifier"),
    ([{"name": "STATES", "input": "STATES", "layers": [4]}], "is a token"),
])
def test_invalid_networks_raise(network, match):
    with pytest.raises(ValueError, match=match):
        build_definition(network, "ACTIONS")


def test_head_is_appended_and_one_wins():
    definition = build_definition([{"name": "features", "input": "STATES", "layers": [4]}], "features + ONE * ACTIONS")
    assert definition.containers[-1].modules[-1].options == {"out_features": Units("ONE")}


def test_deprecated_parameters_are_converted(caplog):
    network, output = convert_deprecated_parameters({"input_shape": Shape.STATES_ACTIONS, "hiddens": [32, 16],
                                                     "hidden_activation": ["relu", "relu"], "output_shape": Shape.ONE,
                                                     "output_activation": "tanh", "output_scale": 2.0})
    assert network == [{"name": "net", "input": "Shape.STATES_ACTIONS", "layers": [32, 16], "activations": "relu"}]
    assert output == "2.0 * tanh(Shape.ONE)"
    assert str(Shape.OBSERVATIONS) == "Shape.STATES"
    assert any("are deprecated" in record.message for record in caplog.records)
