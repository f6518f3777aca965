"""Model.save/Model.load on both backends: round trips, mismatch reports and files written by skrl 1.4.3."""

import json
import pathlib
import pickle

import gymnasium
import numpy as np
import pytest
from model_harness import harness, spaces

from skrl.common.errors import CheckpointMismatchError

FIXTURES = pathlib.Path("/work/shared/fixtures/skrl-1.4.3")
STATES = np.random.default_rng(0).uniform(-1, 1, (6, 4)).astype(np.float32)


def network(units):
    return [{"name": "net", "input": "STATES", "layers": [units], "activations": "tanh"}]


def gaussian(backend, units=8, key=0):
    h = harness(backend)
    observation_space, action_space = spaces("box")
    model = h.instantiators.gaussian_model(observation_space, action_space, network=network(units), output="ACTIONS")
    if backend == "jax":
        import jax

        model.init_state_dict("policy", key=jax.random.PRNGKey(key))
    else:
        model.init_state_dict("policy")
    return model


def test_save_load_round_trip(backend, tmp_path):
    h = harness(backend)
    saved, restored = gaussian(backend, key=1), gaussian(backend, key=2)
    path = str(tmp_path / "policy")
    saved.save(path)
    expected = h.act(saved, {"states": STATES})[2]["mean_actions"]
    assert not np.allclose(h.act(restored, {"states": STATES})[2]["mean_actions"], expected)
    restored.set_mode("train")
    restored.load(path)
    assert restored.training is False
    np.testing.assert_array_equal(h.act(restored, {"states": STATES})[2]["mean_actions"], expected)


def test_loading_another_architecture_lists_every_difference(backend, tmp_path):
    h = harness(backend)
    observation_space, action_space = spaces("box")
    value = h.instantiators.deterministic_model(observation_space, action_space, network=network(8), output="ONE")
    value.init_state_dict("value")
    path = str(tmp_path / "value")
    value.save(path)
    policy = gaussian(backend, units=16)
    with pytest.raises(CheckpointMismatchError) as error:
        policy.load(path)
    message = str(error.value)
    assert "missing keys" in message and "log_std_parameter" in message
    first_layer = {"torch": "net_container.0.weight: saved shape (8, 4) -> expected shape (16, 4)",
                   "jax": "params/net_container/layers_0/kernel: saved shape (4, 8) -> expected shape (4, 16)"}
    assert first_layer[backend] in message


def _fixture(backend):
    """skrl 1.4.3 policy parameters, the preprocessed observations and the expected mean actions."""
    expected = json.loads((FIXTURES / "expected.json").read_text())
    if backend == "torch":
        import torch

        modules = torch.load(FIXTURES / "torch_agent.pt", weights_only=True)
        stats = {k: v.numpy() for k, v in modules["state_preprocessor"].items()}
    else:
        from skrl.jax.checkpoint_io import load_legacy_pickle, msgpack_restore

        modules = load_legacy_pickle(str(FIXTURES / "jax_agent.pickle"))
        stats = msgpack_restore(modules["state_preprocessor"])
    obs = np.array(expected["obs"], np.float32)
    obs = np.clip((obs - stats["running_mean"]) / (np.sqrt(stats["running_variance"]) + 1e-8), -5, 5)
    return modules["policy"], obs.astype(np.float32), np.array(expected[backend]["mean_actions"]), expected["net"]


@pytest.mark.parametrize("backend, layout", [("torch", "torch.save"), ("jax", "msgpack"), ("jax", "pickle")])
def test_files_written_by_skrl_1_4_3_load(backend, layout, tmp_path):
    h = harness(backend)
    policy_state, obs, mean_actions, net = _fixture(backend)
    path = tmp_path / "policy_1000.file"
    if layout == "torch.save":
        import torch

        torch.save(policy_state, path)
    else:
        path.write_bytes(policy_state if layout == "msgpack" else pickle.dumps(policy_state, protocol=4))
    observation_space = gymnasium.spaces.Box(-1, 1, (3,))
    model = h.instantiators.gaussian_model(observation_space, gymnasium.spaces.Box(-1, 1, (1,)), network=net,
                                           output="ACTIONS")
    model.init_state_dict("policy")
    model.load(str(path))
    np.testing.assert_allclose(h.act(model, {"states": obs})[2]["mean_actions"], mean_actions, atol=1e-6)
