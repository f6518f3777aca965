"""The Runner: one YAML config trains PPO on CartPole-v1 on either backend (the ``backend`` key), and unsafe or
unknown content is refused with a clear error."""

import importlib
import os
import pathlib

import builders
import gymnasium
import numpy as np
import pytest

from skrl.common import background_writer
from skrl.utils.runner import Runner, RunnerConfigError

CONFIG = pathlib.Path(__file__).with_name("cartpole_ppo.yaml")
REWARD_TAG = "Reward / Total reward (mean)"


def make_env(num_envs=4):
    env = gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    return env


def config(tmp_path, **changes):
    cfg = Runner.load_cfg_from_yaml(str(CONFIG))
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    cfg.update(changes)
    return cfg


def short(cfg, timesteps=8):
    cfg["trainer"]["timesteps"] = timesteps
    cfg["agent"]["rollouts"] = 4
    return cfg


def test_yaml_config_trains_ppo_on_cartpole(backend, tmp_path):
    runner = Runner(make_env(), config(tmp_path, backend=backend))
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo")
    assert type(runner.agent) is ppo.PPO and runner.agent.cfg["rollouts"] == 32
    assert runner.memory.memory_size == 32 and runner.memory.num_envs == 4
    assert type(runner.trainer).__module__ == f"skrl.trainers.{backend}.sequential"
    runner.run()
    background_writer.wait()
    rewards = [value for _, value in builders.read_events(runner.agent.experiment_dir)[REWARD_TAG]]
    assert len(rewards) >= 10 and np.mean(rewards[-3:]) > np.mean(rewards[:3]) + 10, rewards
    checkpoints = os.listdir(os.path.join(runner.agent.experiment_dir, "checkpoints"))
    assert {"agent_1000", "best_agent"} <= {os.path.splitext(name)[0] for name in checkpoints}
    runner.run("eval")


def test_backend_runners_and_key_resolution(backend, tmp_path):
    module = importlib.import_module(f"skrl.utils.runner.{backend}")
    cfg = short(config(tmp_path))
    del cfg["backend"]
    runner = module.Runner(make_env(2), cfg)
    assert type(runner.env).__module__ == f"skrl.envs.wrappers.{backend}"
    preprocessors = importlib.import_module(f"skrl.resources.preprocessors.{backend}")
    assert runner.agent.cfg["state_preprocessor"] is preprocessors.RunningStandardScaler
    assert runner.agent.cfg["state_preprocessor_kwargs"]["size"] == runner.env.observation_space
    assert runner.agent.cfg["value_preprocessor_kwargs"]["size"] == 1
    assert runner.agent.cfg["rewards_shaper"](3.0) == 3.0
    other = "jax" if backend == "torch" else "torch"
    with pytest.raises(RunnerConfigError, match=f"asks for backend '{other}', but this is the {backend} Runner"):
        module.Runner(make_env(2), dict(cfg, backend=other))


def test_generic_runner_takes_the_backend_of_a_wrapped_env(backend, tmp_path):
    cfg = short(config(tmp_path))
    del cfg["backend"]
    env = builders.module("envs.wrappers", backend).wrap_env(make_env(2), verbose=False)
    assert Runner(env, cfg).env is env
    other = "jax" if backend == "torch" else "torch"
    with pytest.raises(RunnerConfigError, match=f"wrapped for {backend}, but the Runner builds for {other}"):
        Runner(env, dict(cfg, backend=other))
    with pytest.raises(RunnerConfigError, match="The Runner needs a backend"):
        Runner(make_env(2), cfg)


def test_shared_models(backend, tmp_path):
    cfg = short(config(tmp_path, backend=backend))
    cfg["models"]["separate"] = False
    runner = Runner(make_env(2), cfg)
    shared = runner.models["policy"] is runner.models["value"]
    assert shared == (backend == "torch"), "torch shares one model; JAX agents take separate models"
    runner.run()


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "unsafe.yaml"
    path.write_text(CONFIG.read_text().replace("class: PPO", "class: !!python/object/apply:os.system ['echo pwned']"))
    with pytest.raises(RunnerConfigError, match=r"Refused to load .*unsafe.yaml.*python/object"):
        Runner.load_cfg_from_yaml(str(path))


@pytest.mark.parametrize("text, match", [
    ("- a\n- b\n", "expected a mapping"),
    ("models: {policy: [\n", "Invalid YAML"),
])
def test_malformed_yaml(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RunnerConfigError, match=match):
        Runner.load_cfg_from_yaml(str(path))


# where in the config, bad value, expected message
UNKNOWN_NAMES = [
    (("agent", "class"), "PPOO", r"Unknown agent class 'PPOO' in agent.class \(did you mean 'PPO'\?\). Allowed: A2C,"),
    (("models", "policy", "class"), "CategoricalMixn", r"Unknown model class 'CategoricalMixn' in models.policy.class \(did you mean 'CategoricalMixin'\?\)"),
    (("agent", "state_preprocessor"), "os.system", r"Unknown preprocessor class 'os.system' in agent.state_preprocessor. Allowed: RunningStandardScaler"),
    (("agent", "learning_rate_scheduler"), "torch.optim.SGD", r"Unknown scheduler class 'torch.optim.SGD'"),
    (("memory", "class"), "__import__('os')", r"Unknown memory class"),
    (("trainer", "class"), "SequenialTrainer", r"Unknown trainer class 'SequenialTrainer' in trainer.class \(did you mean 'SequentialTrainer'\?\)"),
]


@pytest.mark.parametrize("path, value, match", UNKNOWN_NAMES, ids=[".".join(p) for p, _, _ in UNKNOWN_NAMES])
def test_unknown_class_names_are_refused(backend, tmp_path, path, value, match):
    cfg = config(tmp_path, backend=backend)
    section = cfg
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    with pytest.raises(RunnerConfigError, match=match):
        Runner(make_env(2), cfg)


def test_allowlisted_class_missing_on_a_backend(tmp_path):
    cfg = short(config(tmp_path, backend="jax"))
    cfg["trainer"]["class"] = "ParallelTrainer"
    with pytest.raises(RunnerConfigError, match="The trainer 'ParallelTrainer' .* is not available on the jax backend"):
        Runner(make_env(2), cfg)


@pytest.mark.parametrize("change, match", [
    ({"trainers": {}}, r"Unknown key 'trainers' in the Runner config \(did you mean 'trainer'\?\)"),
    ({"backend": "tensorflow"}, r"Invalid `backend`: expected one of torch, jax. Received: backend='tensorflow'"),
    ({"agent": ["PPO"]}, r"Invalid `agent` section: expected a mapping"),
])
def test_layout_errors(tmp_path, change, match):
    with pytest.raises(RunnerConfigError, match=match):
        Runner(make_env(2), config(tmp_path, **change))


def test_missing_sections_and_classes(tmp_path):
    cfg = config(tmp_path)
    del cfg["trainer"]
    with pytest.raises(RunnerConfigError, match="lacks the section.*trainer"):
        Runner(make_env(2), cfg)
    cfg = config(tmp_path)
    del cfg["agent"]["class"]
    with pytest.raises(RunnerConfigError, match="The `agent` section needs a `class`"):
        Runner(make_env(2), cfg)


def test_run_mode_is_checked(tmp_path):
    runner = Runner(make_env(2), short(config(tmp_path)))
    with pytest.raises(ValueError, match=r"Invalid `mode`: expected one of train, eval. Received: mode='test'"):
        runner.run("test")
