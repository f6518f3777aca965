"""Checkpoints written by the real skrl 1.4.3 load into our agents and reproduce its outputs."""

import json
import pathlib

import gymnasium
import numpy as np
import pytest

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


def test_skrl_143_optimizer_state_is_restored(backend, tmp_path):
    agent = _agent(backend, tmp_path)
    agent.load(str(FIXTURES / FILES[backend]))
    if backend == "torch":
        state = agent.optimizer.state_dict()["state"]
        assert state and all(int(s["step"]) >= 1 for s in state.values())
    else:
        import jax

        counts = [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(agent.policy_optimizer.state)
                  if "count" in jax.tree_util.keystr(path)]
        assert counts and int(counts[0]) >= 1
