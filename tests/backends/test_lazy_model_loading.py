"""torch models built by the instantiators have lazy layers until their first call: a checkpoint loads into them."""

import os

import pytest
import torch
from builders import NETWORK, make_ppo, module, trainer, wrapped_gym_env

from skrl.common.errors import CheckpointMismatchError


def _lazy_models(env, layers=(16, 16)):
    instantiators = module("utils.model_instantiators", "torch")
    network = [{**NETWORK[0], "layers": list(layers)}]
    return {"policy": instantiators.categorical_model(env.observation_space, env.action_space, env.device,
                                                      network=network, output="ACTIONS"),
            "value": instantiators.deterministic_model(env.observation_space, env.action_space, env.device,
                                                       network=network, output="ONE")}


def _agent(env, tmp_path, models=None):
    experiment = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}
    agent = make_ppo("torch", env, {"rollouts": 16, "experiment": experiment}, models=models)
    return agent


def test_checkpoint_loads_into_never_called_models(tmp_path):
    env = wrapped_gym_env("torch", "CartPole-v1", num_envs=2)
    source = _agent(env, tmp_path)
    trainer("torch", env, source, 40).train()
    path = os.path.join(tmp_path, "agent.pt")
    source.save(path)

    models = _lazy_models(env)
    assert any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in models["policy"].parameters())
    fresh = _agent(env, tmp_path, models=models)
    fresh.init(trainer_cfg={"timesteps": 1})
    fresh.load(path)
    states = torch.randn(5, 4)
    assert torch.equal(source.models["policy"].act({"states": states}, role="policy")[2]["net_output"],
                       fresh.models["policy"].act({"states": states}, role="policy")[2]["net_output"])
    assert torch.equal(source.models["value"].act({"states": states}, role="value")[0],
                       fresh.models["value"].act({"states": states}, role="value")[0])


def test_an_agent_trains_models_whose_layers_are_still_lazy(tmp_path):
    """skrl 1.4.3 torch code never calls ``init_state_dict``: the agent's first act must not freeze the weights."""
    env = wrapped_gym_env("torch", "CartPole-v1", num_envs=2)
    agent = _agent(env, tmp_path, models=_lazy_models(env))
    before = [p.detach().clone() for p in agent.models["policy"].parameters()]
    trainer("torch", env, agent, 40).train()
    after = list(agent.models["policy"].parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after))


def test_known_shapes_of_a_lazy_model_are_still_checked(tmp_path):
    env = wrapped_gym_env("torch", "CartPole-v1", num_envs=2)
    source = _agent(env, tmp_path)
    path = os.path.join(tmp_path, "agent.pt")
    source.save(path)
    other = _agent(env, tmp_path, models=_lazy_models(env, layers=(16, 32)))
    other.init(trainer_cfg={"timesteps": 1})
    with pytest.raises(CheckpointMismatchError, match="saved shape"):
        other.load(path)
