"""PPO's variants on both backends: RPO (PPO + ``alpha`` for every model call) and A2C (one pass of the plain
policy gradient over contiguous mini-batches), each with its own config keys and PPO's tags and modules."""

import importlib
import os

import numpy as np
import pytest
from builders import make_ppo, module, ppo_models, read_events, to_numpy, trainer, wrapped_gym_env

from skrl.common.errors import InvalidConfigValueError, UnknownConfigKeyError

A2C_KEYS = {"rollouts", "mini_batches", "discount_factor", "lambda", "learning_rate", "learning_rate_scheduler",
            "learning_rate_scheduler_kwargs", "state_preprocessor", "state_preprocessor_kwargs", "value_preprocessor",
            "value_preprocessor_kwargs", "random_timesteps", "learning_starts", "grad_norm_clip", "entropy_loss_scale",
            "rewards_shaper", "time_limit_bootstrap", "mixed_precision", "experiment"}


def _variant(name, backend, env, cfg):
    models = ppo_models(backend, env.observation_space, env.action_space, env.device)
    memory = module("memories", backend).RandomMemory(memory_size=cfg.get("rollouts", 16), num_envs=env.num_envs,
                                                      device=env.device)
    agent = getattr(importlib.import_module(f"skrl.agents.{backend}.{name.lower()}"), name)
    return agent(models=models, memory=memory, observation_space=env.observation_space, action_space=env.action_space,
                 device=env.device, cfg=cfg)


def _same_modules_as_ppo(agent, backend, env, tmp_path):
    ppo = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0}})
    return set(agent.checkpoint_modules) == set(ppo.checkpoint_modules)


# ---- RPO ----------------------------------------------------------------------------------------------------------

def _record_inputs(model, seen):
    act = model.act

    def recording(inputs, *args, **kwargs):
        seen.append(inputs.get("alpha"))
        return act(inputs, *args, **kwargs)

    model.act = recording


def test_rpo_default_config_is_ppos_plus_alpha():
    from skrl.agents.jax.rpo import RPO_DEFAULT_CONFIG as jax_cfg
    from skrl.agents.torch.ppo import PPO_DEFAULT_CONFIG
    from skrl.agents.torch.rpo import RPO_DEFAULT_CONFIG as torch_cfg

    assert torch_cfg is jax_cfg
    assert set(torch_cfg) == set(PPO_DEFAULT_CONFIG) | {"alpha"} and torch_cfg["alpha"] == 0.5


def test_rpo_gives_alpha_to_every_policy_and_value_call(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    agent = _variant("RPO", backend, env, {"rollouts": 8, "learning_epochs": 2, "mini_batches": 2, "alpha": 0.3,
                                "experiment": {"directory": str(tmp_path), "write_interval": 8,
                                               "checkpoint_interval": 16}})
    seen = []
    _record_inputs(agent.policy, seen)
    _record_inputs(agent.value, seen)
    trainer(backend, env, agent, timesteps=32).train()
    assert seen and set(seen) == {0.3}
    events = read_events(agent.experiment_dir)
    assert {"Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation"} <= set(events)
    ext = ".pt" if backend == "torch" else ""
    assert {f"agent_16{ext}", f"agent_32{ext}"} <= set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    assert _same_modules_as_ppo(agent, backend, env, tmp_path)


def test_rpo_rejects_a_negative_alpha(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    with pytest.raises(InvalidConfigValueError, match=r"Invalid `alpha`.*Received: alpha=-0.1"):
        _variant("RPO", backend, env, {"alpha": -0.1, "experiment": {"directory": str(tmp_path)}})


# ---- A2C ----------------------------------------------------------------------------------------------------------

def test_a2c_default_config_keys_and_values():
    from skrl.agents.jax.a2c import A2C_DEFAULT_CONFIG as jax_cfg
    from skrl.agents.torch.a2c import A2C_DEFAULT_CONFIG as torch_cfg

    assert torch_cfg is jax_cfg and set(torch_cfg) == A2C_KEYS
    assert (torch_cfg["rollouts"], torch_cfg["mini_batches"], torch_cfg["grad_norm_clip"]) == (16, 1, 0.5)


def test_a2c_rejects_ppo_only_keys(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    with pytest.raises(UnknownConfigKeyError, match="'learning_epochs'"):
        _variant("A2C", backend, env, {"learning_epochs": 3, "experiment": {"directory": str(tmp_path)}})


def test_a2c_policy_loss_is_the_plain_policy_gradient(backend, tmp_path):
    """With one mini-batch and no preprocessor the loss is taken before any step: -mean(A * log_prob) of the rollout."""
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=3)
    agent = _variant("A2C", backend, env, {"rollouts": 8, "entropy_loss_scale": 0.01, "experiment": {
        "directory": str(tmp_path), "write_interval": 8, "checkpoint_interval": 8}})
    trainer(backend, env, agent, timesteps=8).train()
    advantages = to_numpy(agent.memory.get_tensor_by_name("advantages")).astype(np.float64)
    log_prob = to_numpy(agent.memory.get_tensor_by_name("log_prob")).astype(np.float64)
    events = read_events(agent.experiment_dir)
    assert events["Loss / Policy loss"][0][1] == pytest.approx(-np.mean(advantages * log_prob), rel=1e-4, abs=1e-6)
    assert {"Loss / Value loss", "Loss / Entropy loss", "Policy / Standard deviation"} <= set(events)
    ext = ".pt" if backend == "torch" else ""
    assert f"agent_8{ext}" in os.listdir(os.path.join(agent.experiment_dir, "checkpoints"))
    assert _same_modules_as_ppo(agent, backend, env, tmp_path)


def test_a2c_trains_with_mini_batches_preprocessors_and_scheduler(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    schedule = module("resources.schedulers", backend).KLAdaptiveLR
    agent = _variant("A2C", backend, env, {"rollouts": 8, "mini_batches": 3, "learning_rate_scheduler": schedule,
                                "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space},
                                "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
                                "experiment": {"directory": str(tmp_path), "write_interval": 16, "checkpoint_interval": 0}})
    trainer(backend, env, agent, timesteps=32).train()
    events = read_events(agent.experiment_dir)
    assert [step for step, _ in events["Learning / Learning rate"]] == [16, 32]
    assert all(np.isfinite(value) for _, value in events["Loss / Value loss"])
