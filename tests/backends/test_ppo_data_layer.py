"""PPO's experiment data layer on both backends: run directory, TensorBoard tags, checkpoints, save/load."""

import os

import numpy as np
import pytest
from builders import make_ppo, module, ppo_models, read_events, to_numpy, trainer, wrapped_gym_env

from skrl.common.errors import CheckpointMismatchError, UnknownConfigKeyError

PPO_TAGS = {
    "Reward / Instantaneous reward (max)", "Reward / Instantaneous reward (min)", "Reward / Instantaneous reward (mean)",
    "Reward / Total reward (max)", "Reward / Total reward (min)", "Reward / Total reward (mean)",
    "Episode / Total timesteps (max)", "Episode / Total timesteps (min)", "Episode / Total timesteps (mean)",
    "Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation",
}


def _short_run(backend, tmp_path, timesteps=400, separately=False, **cfg):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    experiment = {"directory": str(tmp_path), "write_interval": 50, "checkpoint_interval": 100,
                  "store_separately": separately}
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    agent = make_ppo(backend, env, {"rollouts": 16, "mini_batches": 2, "learning_epochs": 2,
                                    "entropy_loss_scale": 0.01, "experiment": experiment, "state_preprocessor": scaler,
                                    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
                                    **cfg})
    trainer(backend, env, agent, timesteps).train()
    return agent


def test_tensorboard_tags_and_steps(backend, tmp_path):
    agent = _short_run(backend, tmp_path)
    events = read_events(agent.experiment_dir)
    assert PPO_TAGS | {"Loss / Entropy loss"} <= set(events)
    assert [step for step, _ in events["Reward / Instantaneous reward (mean)"]] == list(range(50, 401, 50))
    assert all(np.isfinite(v) for _, v in events["Loss / Value loss"])


def test_periodic_and_best_checkpoints(backend, tmp_path):
    agent = _short_run(backend, tmp_path)
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    assert {f"agent_{t}{ext}" for t in (100, 200, 300, 400)} <= names
    assert f"best_agent{ext}" in names
    assert not [n for n in names if "tmp" in n]


def test_store_separately_writes_one_file_per_module(backend, tmp_path):
    agent = _short_run(backend, tmp_path, timesteps=200, separately=True)
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    optimizers = ["optimizer"] if backend == "torch" else ["policy_optimizer", "value_optimizer"]
    for name in ["policy", "value", *optimizers, "state_preprocessor"]:
        assert f"{name}_200{ext}" in names
        assert f"best_{name}{ext}" in names


def test_write_interval_zero_disables_tracking(backend, tmp_path):
    agent = _short_run(backend, tmp_path, timesteps=100)
    assert agent.tracking_data == {}
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    off = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path / "off"), "write_interval": 0,
                                                 "checkpoint_interval": 0}})
    trainer(backend, env, off, 64).train()
    assert off.tracking_data == {}
    assert not os.path.exists(off.experiment_dir)


def _observations(env, n=6, seed=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, env.observation_space.shape[0])).astype(np.float32)


def _as_backend(backend, x, device):
    if backend == "torch":
        import torch

        return torch.as_tensor(x, device=device)
    return x


def test_save_then_load_into_fresh_agent_gives_identical_actions(backend, tmp_path):
    agent = _short_run(backend, tmp_path, timesteps=100)
    path = str(tmp_path / ("saved.pt" if backend == "torch" else "saved"))
    agent.save(path)
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    fresh = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 0}, "state_preprocessor": scaler,
                                    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device}})
    fresh.init(trainer_cfg={"timesteps": 0})
    obs = _as_backend(backend, _observations(env), env.device)
    before = to_numpy(fresh.act(obs, 10**6, 10**6)[2]["mean_actions"])
    fresh.load(path)
    expected = to_numpy(agent.act(obs, 10**6, 10**6)[2]["mean_actions"])
    loaded = to_numpy(fresh.act(obs, 10**6, 10**6)[2]["mean_actions"])
    np.testing.assert_allclose(loaded, expected, rtol=0, atol=0)
    assert not np.allclose(before, expected)


def test_loading_another_architecture_names_keys_and_shapes(backend, tmp_path):
    agent = _short_run(backend, tmp_path, timesteps=64)
    path = str(tmp_path / ("saved.pt" if backend == "torch" else "saved"))
    agent.save(path)
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    wide = [{"name": "net", "input": "STATES", "layers": [32, 16], "activations": "tanh"}]
    models = ppo_models(backend, env.observation_space, env.action_space, env.device, network=wide)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    other = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 0}, "state_preprocessor": scaler,
                                    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device}},
                     models=models)
    other.init(trainer_cfg={"timesteps": 0})
    with pytest.raises(CheckpointMismatchError, match=r"\[policy\].*saved shape .*16.* -> expected shape .*32"):
        other.load(path)


def test_mistyped_config_key_suggests_the_right_one(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    with pytest.raises(UnknownConfigKeyError, match="'learning_epoch'.*did you mean 'learning_epochs'"):
        make_ppo(backend, env, {"learning_epoch": 3})
    with pytest.raises(UnknownConfigKeyError, match="did you mean 'checkpoint_interval'"):
        make_ppo(backend, env, {"experiment": {"checkpoint_intervall": 3}})


def test_best_model_is_kept_without_tensorboard(backend, tmp_path):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 100}})
    trainer(backend, env, agent, 300).train()
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    assert f"best_agent{ext}" in names
    assert not [n for n in os.listdir(agent.experiment_dir) if n.startswith("events.out")]


def test_stale_temporaries_are_removed_and_never_picked(backend, tmp_path):
    from skrl.utils.checkpoints import find_checkpoint

    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "write_interval": 0, "checkpoint_interval": 50}
    first = make_ppo(backend, env, {"experiment": experiment})
    trainer(backend, env, first, 100).train()
    directory = os.path.join(first.experiment_dir, "checkpoints")
    stale = os.path.join(directory, ".agent_900.pt.1234abcd.skrl-tmp")
    with open(stale, "wb") as file:
        file.write(b"partial")
    assert find_checkpoint(first.experiment_dir, "latest").endswith("agent_100" + (".pt" if backend == "torch" else ""))
    second = make_ppo(backend, env, {"experiment": experiment})
    second.init(trainer_cfg={"timesteps": 100})
    assert not os.path.exists(stale)
