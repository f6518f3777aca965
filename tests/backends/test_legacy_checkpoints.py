"""Checkpoints written by the real skrl 1.4.3 load into our agents and reproduce its outputs."""

import json
import pathlib

import gymnasium
import numpy as np
from builders import module, to_numpy

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "skrl-1.4.3"  # copied from shared/fixtures
FILES = {"torch": "torch_agent.pt", "jax": "jax_agent.pickle"}


def _agent(backend, tmp_path):
    import importlib

    observation_space = gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32)
    action_space = gymnasium.spaces.Box(-1, 1, (1,), dtype=np.float32)
    net = [{"name": "net", "input": "STATES", "layers": [16, 16], "activations": "tanh"}]
    instantiators = module("utils.model_instantiators", backend)
    policy = instantiators.gaussian_model(observation_space, action_space, "cpu", network=net, output="ACTIONS")
    value = instantiators.deterministic_model(observation_space, action_space, "cpu", network=net, output="ONE")
    policy.init_state_dict("policy")
    value.init_state_dict("value")
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    agent = ppo(models={"policy": policy, "value": value}, memory=None, observation_space=observation_space,
                action_space=action_space, device="cpu",
                cfg={"state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": observation_space, "device": "cpu"},
                     "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}})
    agent.init(trainer_cfg={"timesteps": 0})
    return agent


def test_skrl_143_checkpoint_reproduces_its_outputs(backend, tmp_path):
    expected = json.loads((FIXTURES / "expected.json").read_text())
    agent = _agent(backend, tmp_path)
    agent.load(str(FIXTURES / FILES[backend]))
    obs = np.asarray(expected["obs"], dtype=np.float32)
    if backend == "torch":
        import torch

        obs = torch.as_tensor(obs)
    mean_actions = to_numpy(agent.act(obs, 10**6, 10**6)[2]["mean_actions"])
    np.testing.assert_allclose(mean_actions, expected[backend]["mean_actions"], atol=1e-5)
    states = agent._state_preprocessor(obs)
    values = to_numpy(agent.value.act({"states": states}, role="value")[0])
    np.testing.assert_allclose(values, expected[backend]["value"], atol=1e-5)


def _step_optimizers_once(agent, backend):
    """Move the live optimizer state away from the file's, so that loading has something to restore."""
    if backend == "torch":
        for p in agent.optimizer.param_groups[0]["params"]:
            p.grad = p.detach().clone().fill_(0.3)
        agent.optimizer.step()
    else:
        import jax
        import jax.numpy as jnp

        grads = jax.tree_util.tree_map(jnp.ones_like, agent.value.state_dict.params)
        agent.value_optimizer = agent.value_optimizer.step(grads, agent.value)
        agent.checkpoint_modules["value_optimizer"] = agent.value_optimizer


def test_skrl_143_optimizer_state_is_restored(backend, tmp_path):
    agent = _agent(backend, tmp_path)
    _step_optimizers_once(agent, backend)
    agent.load(str(FIXTURES / FILES[backend]))
    if backend == "torch":
        import torch

        saved = torch.load(FIXTURES / FILES[backend], weights_only=True)["optimizer"]["state"]
        live = agent.optimizer.state_dict()["state"]
        assert saved and set(saved) == set(live)
        for index in saved:
            assert int(live[index]["step"]) == int(saved[index]["step"]) >= 1
            np.testing.assert_array_equal(live[index]["exp_avg"].numpy(), saved[index]["exp_avg"].numpy())
    else:
        import jax
        from flax import serialization

        from skrl.jax.checkpoint_io import load_legacy_pickle, msgpack_restore

        saved = msgpack_restore(load_legacy_pickle(str(FIXTURES / FILES[backend]))["value_optimizer"])
        live = serialization.to_state_dict(agent.value_optimizer)
        flat_saved = jax.tree_util.tree_leaves_with_path(saved)
        flat_live = dict(jax.tree_util.tree_leaves_with_path(live))
        assert flat_saved and len(flat_saved) == len(flat_live)
        for path, leaf in flat_saved:
            np.testing.assert_array_equal(np.asarray(flat_live[path]), np.asarray(leaf))


def test_skrl_143_separate_module_files_load_into_models(backend, tmp_path):
    """``store_separately=True`` in skrl 1.4.3 wrote one file per module: ``policy_<t>.pt`` / ``policy_<t>.pickle``."""
    import pickle

    expected = json.loads((FIXTURES / "expected.json").read_text())
    agent = _agent(backend, tmp_path)
    if backend == "torch":
        import torch

        grouped = torch.load(FIXTURES / FILES[backend], weights_only=True)
        path = tmp_path / "value_1000.pt"
        torch.save(grouped["value"], path)
        scaler_state = grouped["state_preprocessor"]
        agent._state_preprocessor.load_state_dict(scaler_state)
    else:
        from skrl.jax.checkpoint_io import load_legacy_pickle

        grouped = load_legacy_pickle(str(FIXTURES / FILES[backend]))
        path = tmp_path / "value_1000.pickle"
        with open(path, "wb") as file:
            pickle.dump(grouped["value"], file, protocol=4)
        from skrl.jax.checkpoint_io import msgpack_restore

        agent._state_preprocessor.state_dict = msgpack_restore(grouped["state_preprocessor"])
    agent.value.load(str(path))
    obs = np.asarray(expected["obs"], dtype=np.float32)
    if backend == "torch":
        import torch

        obs = torch.as_tensor(obs)
    values = to_numpy(agent.value.act({"states": agent._state_preprocessor(obs)}, role="value")[0])
    np.testing.assert_allclose(values, expected[backend]["value"], atol=1e-5)
