"""Instantiated models on both backends: action shapes (5.11), parameter names (5.7), sources and expressions."""

import gymnasium
import numpy as np
import pytest
from models.model_harness import harness

BATCH = 10
BOX_OBS = gymnasium.spaces.Box(-1, 1, (5,))
OBSERVATIONS = {
    "box": (BOX_OBS, [{"name": "net", "input": "STATES", "layers": [16, 8], "activations": "relu"}]),
    "tuple": (gymnasium.spaces.Tuple([gymnasium.spaces.Box(-1, 1, (3,)), gymnasium.spaces.Box(-1, 1, (2, 2))]), [
        {"name": "net_0", "input": "STATES[0]", "layers": [8], "activations": "relu"},
        {"name": "net_1", "input": "STATES[1][:, 0, :]", "layers": [8], "activations": "relu"},
        {"name": "net", "input": "net_0 + net_1", "layers": [8], "activations": "relu"}]),
    "dict": (gymnasium.spaces.Dict({"joint": gymnasium.spaces.Box(-1, 1, (3,)), "mode": gymnasium.spaces.Discrete(3)}), [
        {"name": "net_0", "input": "STATES['joint']", "layers": [8], "activations": "tanh"},
        {"name": "net_1", "input": "one_hot_encoding(OBSERVATION_SPACE['mode'], STATES['mode'])", "layers": [8]},
        {"name": "net", "input": "net_0 + net_1", "layers": [8], "activations": "tanh"}]),
}
# instantiator, action space, output, action shape
ACTION_CASES = [
    ("gaussian", gymnasium.spaces.Box(-1, 1, (2,)), "ACTIONS", (BATCH, 2)),
    ("categorical", gymnasium.spaces.Discrete(2), "ACTIONS", (BATCH, 1)),
    ("multicategorical", gymnasium.spaces.MultiDiscrete([2, 3]), "ACTIONS", (BATCH, 2)),
    ("deterministic", gymnasium.spaces.Box(-1, 1, (2,)), "ONE", (BATCH, 1)),
    ("gaussian", gymnasium.spaces.Discrete(2), "2 * tanh(ACTIONS)", (BATCH, 2)),
]
SHAPE_TABLE = [(obs, *case) for obs in OBSERVATIONS for case in ACTION_CASES
               if obs == "box" or case[0] in ("categorical", "deterministic")]


def sample_states(space, batch=BATCH):
    from skrl.common.spaces import compute_space_size

    columns = []
    for sub in (space.spaces.values() if isinstance(space, gymnasium.spaces.Dict) else
                space.spaces if isinstance(space, gymnasium.spaces.Tuple) else [space]):
        size = compute_space_size(sub, occupied_size=True)
        low = 0 if isinstance(sub, gymnasium.spaces.Discrete) else -1
        high = sub.n if isinstance(sub, gymnasium.spaces.Discrete) else 1
        columns.append(np.random.randint(low, high, (batch, size)) if low == 0 else np.random.uniform(-1, 1, (batch, size)))
    return np.concatenate(columns, axis=1).astype(np.float32)


@pytest.mark.parametrize("observation, kind, action_space, output, shape", SHAPE_TABLE)
def test_action_shapes(backend, observation, kind, action_space, output, shape):
    h = harness(backend)
    observation_space, network = OBSERVATIONS[observation]
    model = getattr(h.instantiators, f"{kind}_model")(observation_space, action_space, device=None, network=network,
                                                         output=output)
    model.init_state_dict("model")
    actions, _, _ = h.act(model, {"states": sample_states(observation_space)})
    assert actions.shape == shape


DOC_NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "elu"}]
NAMES = {
    "torch": [("log_std_parameter", (3,)), ("net_container.0.weight", (64, 5)), ("net_container.0.bias", (64,)),
              ("net_container.2.weight", (64, 64)), ("net_container.2.bias", (64,)),
              ("net_container.4.weight", (3, 64)), ("net_container.4.bias", (3,))],
    "jax": [("params/log_std_parameter", (3,)), ("params/net_container/layers_0/bias", (64,)),
            ("params/net_container/layers_0/kernel", (5, 64)), ("params/net_container/layers_2/bias", (64,)),
            ("params/net_container/layers_2/kernel", (64, 64)), ("params/net_container/layers_4/bias", (3,)),
            ("params/net_container/layers_4/kernel", (64, 3))],
}


def test_parameter_names(backend):
    h = harness(backend)
    model = h.instantiators.gaussian_model(BOX_OBS, gymnasium.spaces.Box(-1, 1, (3,)), device="cpu",
                                           network=DOC_NETWORK, output="ACTIONS")
    model.init_state_dict("policy")
    params = h.params(model)
    assert [(k, v.shape) for k, v in (params.items() if backend == "torch" else sorted(params.items()))] == NAMES[backend]


def test_fixed_log_std(backend):
    h = harness(backend)
    model = h.instantiators.gaussian_model(BOX_OBS, gymnasium.spaces.Box(-1, 1, (3,)), network=DOC_NETWORK,
                                           output="ACTIONS", initial_log_std=-1.0, fixed_log_std=True)
    model.init_state_dict("policy")
    if backend == "torch":
        assert model.log_std_parameter.requires_grad is False and "log_std_parameter" in model.state_dict()
    else:
        assert "params/log_std_parameter" not in h.params(model)
    outputs = h.act(model, {"states": sample_states(BOX_OBS)})[2]
    np.testing.assert_allclose(outputs["entropy"], 0.5 + 0.5 * np.log(2 * np.pi) - 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["gaussian", "categorical", "multicategorical", "deterministic"])
def test_return_source_is_a_class_definition(backend, kind):
    source = getattr(harness(backend).instantiators, f"{kind}_model")(
        network=DOC_NETWORK, output="2 * tanh(ACTIONS)", return_source=True)
    class_name = {"multicategorical": "MultiCategorical"}.get(kind, kind.capitalize()) + "Model"
    assert isinstance(source, str) and source.startswith(f"class {class_name}(")
    assert "self.net_container" in source and "net = self.net_container(states)" in source
    assert "output = 2 * " in source and "(net)" in source
    compile(source, "<source>", "exec")  # valid Python text; never executed


def test_unsafe_input_is_rejected(backend):
    with pytest.raises(ValueError, match="__import__"):
        harness(backend).instantiators.deterministic_model(
            BOX_OBS, BOX_OBS, network=[{"name": "net", "input": "__import__('os')", "layers": [4]}], output="ONE")


def test_deprecated_arguments(backend):
    h = harness(backend)
    Shape = h.instantiators.Shape
    model = h.instantiators.deterministic_model(BOX_OBS, gymnasium.spaces.Box(-1, 1, (2,)),
                                                input_shape=Shape.STATES_ACTIONS, hiddens=[32, 16],
                                                hidden_activation=["relu", "tanh"], output_shape=Shape.ONE)
    model.init_state_dict("value")
    states, actions = sample_states(BOX_OBS), np.random.uniform(-1, 1, (BATCH, 2)).astype(np.float32)
    assert h.act(model, {"states": states, "taken_actions": actions})[0].shape == (BATCH, 1)
    first_layer = {"torch": ("net_container.0.weight", (32, 7)), "jax": ("params/net_container/layers_0/kernel", (7, 32))}
    key, shape = first_layer[backend]
    assert h.params(model)[key].shape == shape and len(h.params(model)) == 6
    with pytest.raises(ValueError, match="no 'taken_actions'"):
        h.act(model, {"states": states})


CONV = [{"conv2d": {"out_channels": 4, "kernel_size": 3, "stride": 1, "padding": "valid"}}, "flatten", 8]


def test_convolution_and_slicing_inputs(backend):
    h = harness(backend)
    image = gymnasium.spaces.Box(0, 1, (6, 6, 3))
    layout = "permute(STATES, (0, 3, 1, 2))" if backend == "torch" else "STATES"
    network = [{"name": "features", "input": layout, "layers": CONV, "activations": "relu"},
               {"name": "head", "input": "concatenate([features, features[:, :2] / 2])", "layers": [4]}]
    model = h.instantiators.deterministic_model(image, gymnasium.spaces.Box(-1, 1, (2,)), network=network,
                                                output="ACTIONS")
    model.init_state_dict("model")
    assert h.act(model, {"states": np.random.rand(3, 108).astype(np.float32)})[0].shape == (3, 2)


def test_torch_shared_model():
    import torch

    instantiators = harness("torch").instantiators
    parameters = [{"network": DOC_NETWORK, "output": "tanh(ACTIONS)", "clip_log_std": False},
                  {"network": [], "output": "ONE"}]
    model = instantiators.shared_model(BOX_OBS, gymnasium.spaces.Box(-1, 1, (3,)), roles=["policy", "value"],
                                       parameters=parameters)
    value = model.act({"states": torch.rand(BATCH, 5)}, "value")[0]  # value first: nothing cached yet
    model.init_state_dict("policy")
    assert value.shape == (BATCH, 1) and model._shared_output is not None
    assert list(model.state_dict()) == ["log_std_parameter", "net_container.0.weight", "net_container.0.bias",
                                        "net_container.2.weight", "net_container.2.bias", "policy_layer.weight",
                                        "policy_layer.bias", "value_layer.weight", "value_layer.bias"]
    states = torch.rand(BATCH, 5)
    actions, log_prob, outputs = model.act({"states": states}, "policy")
    cached = model.act({"states": torch.zeros(BATCH, 5)}, "value")[0]  # uses the policy's trunk
    assert torch.allclose(cached, model.act({"states": states}, "value")[0])
    assert actions.shape == (BATCH, 3) and log_prob.shape == (BATCH, 1) and model._shared_output is None
    with pytest.raises(ValueError, match="Invalid role"):
        model.act({"states": states}, "critic")
    source = instantiators.shared_model(roles=["policy", "value"], parameters=parameters, return_source=True)
    assert source.startswith("class SharedModel(GaussianMixin, DeterministicMixin, Model):")
    with pytest.raises(ValueError, match="Unknown class: Gaussian"):
        instantiators.shared_model(structure=["Gaussian", "DeterministicMixin"], roles=["a", "b"], parameters=parameters)
