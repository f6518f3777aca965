"""IPPO and MAPPO data layer on both backends: per-agent tags, nested checkpoints, save/load, per-agent config."""

import glob
import os
import pickle

import numpy as np
import pytest
from builders import module, to_numpy, trainer
from ma_builders import EPISODE_LENGTH, make_multi_agent, wrapped_signal_env

from skrl._rebuild import agent_from_run
from skrl.common.errors import CheckpointMismatchError, InvalidConfigValueError
from skrl.common.run_manifest import read_manifest

ALGORITHMS = ("IPPO", "MAPPO")
UIDS = ("agent_0", "agent_1")
TEAM_TAGS = {f"{group} ({stat})" for group in ("Reward / Instantaneous reward", "Reward / Total reward",
                                               "Episode / Total timesteps") for stat in ("max", "min", "mean")}


def _modules(backend, algorithm):
    optimizers = ["optimizer"] if backend == "torch" else ["policy_optimizer", "value_optimizer"]
    shared = ["shared_state_preprocessor"] if algorithm == "MAPPO" else []
    return ["policy", "value", *optimizers, "state_preprocessor", *shared, "value_preprocessor"]


def _config(backend, algorithm, tmp_path, **experiment):
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    cfg = {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2,
           "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": 3},
           "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
           "experiment": {"directory": str(tmp_path), "write_interval": 50, "checkpoint_interval": 100, **experiment}}
    if algorithm == "MAPPO":
        cfg.update(shared_state_preprocessor=scaler, shared_state_preprocessor_kwargs={"size": 6})
    return cfg


def _trained(backend, algorithm, tmp_path, timesteps=200, **cfg):
    env = wrapped_signal_env(backend)
    agent = make_multi_agent(backend, algorithm, env, {**_config(backend, algorithm, tmp_path), **cfg})
    trainer(backend, env, agent, timesteps).train()
    return env, agent


def _read_checkpoint(backend, path):
    if backend == "torch":
        import torch

        return torch.load(path, weights_only=True)
    from skrl.jax.checkpoint_io import load_state

    return load_state(path)


def _read_tags(agent, tags):
    from skrl.utils.postprocessing import TensorboardFileIterator

    files = list(TensorboardFileIterator(os.path.join(agent.experiment_dir, "events.out.tfevents.*"), tags))
    assert len(files) == 1
    return files[0][1]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tags_are_per_agent_and_team_statistics_sum_the_agents(backend, algorithm, tmp_path):
    scheduler = module("resources.schedulers", backend).KLAdaptiveLR
    _, agent = _trained(backend, algorithm, tmp_path, entropy_loss_scale={"agent_0": 0.01, "agent_1": 0.0},
                        learning_rate_scheduler=scheduler, learning_rate_scheduler_kwargs={"kl_threshold": 0.01})
    per_agent = {f"{tag} ({uid})" for uid in UIDS for tag in ("Loss / Policy loss", "Loss / Value loss",
                                                                "Policy / Standard deviation", "Learning / Learning rate")}
    entropy = {"Loss / Entropy loss (agent_0)", "Loss / Entropy loss (agent_1)"}
    series = _read_tags(agent, sorted(TEAM_TAGS | per_agent | entropy))
    assert set(series) == TEAM_TAGS | per_agent | {"Loss / Entropy loss (agent_0)"}
    assert [step for step, _ in series["Loss / Policy loss (agent_1)"]] == [50, 100, 150, 200]
    assert {value for _, value in series["Episode / Total timesteps (mean)"]} == {EPISODE_LENGTH}
    # every agent gets the team's number of right answers: the team reward per step is 2 x (0, 1 or 2)
    rewards = [value for _, value in series["Reward / Instantaneous reward (max)"]]
    assert all(value in (0, 2, 4) for value in rewards)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checkpoints_nest_modules_by_agent(backend, algorithm, tmp_path):
    _, agent = _trained(backend, algorithm, tmp_path)
    ext = ".pt" if backend == "torch" else ""
    directory = os.path.join(agent.experiment_dir, "checkpoints")
    assert {f"agent_100{ext}", f"agent_200{ext}", f"best_agent{ext}"} <= set(os.listdir(directory))
    saved = os.path.join(str(tmp_path), f"saved{ext}")
    agent.save(saved)
    for path in (os.path.join(directory, f"agent_200{ext}"), saved):
        state = _read_checkpoint(backend, path)
        assert set(state) == {*UIDS, "agent_state"}
        for uid in UIDS:
            assert sorted(state[uid]) == sorted(_modules(backend, algorithm))
    if backend == "torch":
        assert list(_read_checkpoint(backend, saved)["agent_0"]) == _modules(backend, algorithm)
        assert list(agent.checkpoint_modules["agent_0"]) == _modules(backend, algorithm)
    manifest = read_manifest(agent.experiment_dir)
    assert set(manifest["models"]) == set(UIDS)
    assert set(manifest["models"]["agent_1"]) == {"policy", "value"}
    assert {"class", "recipe"} <= set(manifest["models"]["agent_1"]["policy"])
    assert [entry["timestep"] for entry in manifest["checkpoints"]] == [100, 200]
    with pytest.raises(ValueError, match=f"Cannot rebuild agent '{algorithm}'"):
        agent_from_run(agent.experiment_dir, wrapped_signal_env(backend))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_store_separately_names_files_by_agent_and_module(backend, algorithm, tmp_path):
    _, agent = _trained(backend, algorithm, tmp_path, timesteps=100,
                        experiment={"directory": str(tmp_path), "write_interval": 50, "checkpoint_interval": 100,
                                    "store_separately": True})
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    for uid in UIDS:
        for name in _modules(backend, algorithm):
            assert {f"{uid}_{name}_100{ext}", f"best_{uid}_{name}{ext}"} <= names


def _logits(agent, observations):
    agent.set_running_mode("eval")
    outputs = agent.act(observations, 10**6, 10**6)[2]
    return {uid: to_numpy(outputs[uid]["net_output"]) for uid in observations}


def _assert_reloads(backend, algorithm, env, agent, path, tmp_path):
    """A fresh agent that loads ``path`` gives ``agent``'s outputs (and did not before)."""
    fresh = make_multi_agent(backend, algorithm, env, _config(backend, algorithm, tmp_path / "fresh"))
    fresh.init(trainer_cfg={"timesteps": 0})
    observations, _ = env.reset()
    before = _logits(fresh, observations)
    fresh.load(path)
    loaded, expected = _logits(fresh, observations), _logits(agent, observations)
    for uid in UIDS:
        np.testing.assert_allclose(loaded[uid], expected[uid], rtol=1e-6)
        assert not np.allclose(before[uid], expected[uid])
    return fresh


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_save_then_load_into_a_fresh_agent_gives_identical_outputs(backend, algorithm, tmp_path):
    env, agent = _trained(backend, algorithm, tmp_path)
    path = os.path.join(str(tmp_path), "saved.pt" if backend == "torch" else "saved")
    agent.save(path)
    fresh = _assert_reloads(backend, algorithm, env, agent, path, tmp_path)
    for name in ("state_preprocessor", "value_preprocessor"):
        np.testing.assert_allclose(to_numpy(fresh.checkpoint_modules["agent_1"][name].running_mean),
                                   to_numpy(agent.checkpoint_modules["agent_1"][name].running_mean))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checkpoint_of_another_architecture_is_refused_listing_each_mismatch(backend, algorithm, tmp_path):
    env, agent = _trained(backend, algorithm, tmp_path, timesteps=32)
    path = os.path.join(str(tmp_path), "saved.pt" if backend == "torch" else "saved")
    agent.save(path)
    wider = [{"name": "net", "input": "STATES", "layers": [48], "activations": "tanh"}]
    other = make_multi_agent(backend, algorithm, env, _config(backend, algorithm, tmp_path / "other"), network=wider)
    other.init(trainer_cfg={"timesteps": 0})
    observations, _ = env.reset()
    before = _logits(other, observations)
    with pytest.raises(CheckpointMismatchError) as error:
        other.load(path)
    message = str(error.value)
    for uid in UIDS:
        for role in ("policy", "value"):
            assert f"[{uid}] {role}: " in message
    assert "(32,)" in message and "(48,)" in message
    after = _logits(other, observations)
    for uid in UIDS:
        np.testing.assert_array_equal(after[uid], before[uid])


def test_skrl_143_layout_without_agent_state_loads(backend, tmp_path):
    env, agent = _trained(backend, "IPPO", tmp_path, timesteps=32)
    if backend == "torch":
        import torch

        path = os.path.join(str(tmp_path), "legacy.pt")
        torch.save({uid: {name: m.state_dict() for name, m in modules.items()}
                    for uid, modules in agent.checkpoint_modules.items()}, path)
    else:
        from flax import serialization

        path = os.path.join(str(tmp_path), "legacy.pickle")
        states = {uid: {name: serialization.to_bytes(m.state_dict.params if hasattr(m, "state_dict") else m)
                        for name, m in modules.items()} for uid, modules in agent.checkpoint_modules.items()}
        with open(path, "wb") as file:
            pickle.dump(states, file, protocol=4)
    _assert_reloads(backend, "IPPO", env, agent, path, tmp_path)


def test_per_agent_learning_rates(backend, tmp_path):
    env = wrapped_signal_env(backend)
    agent = make_multi_agent(backend, "IPPO", env, {"rollouts": 8, "learning_rate": {"agent_0": 1e-2, "agent_1": 1e-10},
                                                    "experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                                   "checkpoint_interval": 0}})
    observations, _ = env.reset()
    before = _logits(agent, observations)
    trainer(backend, env, agent, 32).train()
    after = _logits(agent, observations)
    assert np.abs(after["agent_0"] - before["agent_0"]).max() > 1e-3
    assert np.abs(after["agent_1"] - before["agent_1"]).max() < 1e-5


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_per_agent_value_must_name_every_agent(backend, algorithm, tmp_path):
    env = wrapped_signal_env(backend)
    with pytest.raises(InvalidConfigValueError, match=r"`learning_rate`.*Missing agents: \['agent_1'\]"):
        make_multi_agent(backend, algorithm, env, {"learning_rate": {"agent_0": 1e-3}})
    with pytest.raises(InvalidConfigValueError, match=r"`ratio_clip`.*ratio_clip=-1.*agent 'agent_1'"):
        make_multi_agent(backend, algorithm, env, {"ratio_clip": {"agent_0": 0.2, "agent_1": -1}})


def test_mappo_needs_the_shared_states(backend, tmp_path):
    env = wrapped_signal_env(backend)
    package = __import__(f"skrl.multi_agents.{backend}.mappo", fromlist=["MAPPO"])
    agent = make_multi_agent(backend, "MAPPO", env, {"experiment": {"directory": str(tmp_path)}})
    with pytest.raises(ValueError, match="shared_observation_spaces.*Missing: \\['agent_0', 'agent_1'\\]"):
        package.MAPPO(possible_agents=env.possible_agents, models=agent.models, observation_spaces=env.observation_spaces,
                      action_spaces=env.action_spaces, device=env.device, cfg={})
    agent.init(trainer_cfg={"timesteps": 10})
    observations, _ = env.reset()
    actions = agent.act(observations, 0, 10)[0]
    next_observations, rewards, terminated, truncated, infos = env.step(actions)
    with pytest.raises(ValueError, match=r"infos\['shared_states'\]"):
        agent.record_transition(observations, actions, rewards, next_observations, terminated, truncated, infos, 0, 10)


def test_no_event_file_per_learner(backend, tmp_path):
    _, agent = _trained(backend, "MAPPO", tmp_path, timesteps=64)
    assert len(glob.glob(os.path.join(str(tmp_path), "**", "events.out.tfevents.*"), recursive=True)) == 1
    assert sorted(os.listdir(str(tmp_path))) == [os.path.basename(agent.experiment_dir)]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_agents_sample_independently(backend, algorithm, tmp_path):
    env = wrapped_signal_env(backend)
    agent = make_multi_agent(backend, algorithm, env, {"experiment": {"directory": str(tmp_path)}})
    agent.init(trainer_cfg={"timesteps": 0})
    observations, _ = env.reset()
    same = [int(to_numpy(a["agent_0"]).item() == to_numpy(a["agent_1"]).item())
            for a in (agent.act(observations, t, 300)[0] for t in range(300))]
    assert 0.2 < np.mean(same) < 0.5  # about 1/3 for two nearly uniform policies over 3 actions


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_jax_array_backend_trains_and_reloads(algorithm, tmp_path, monkeypatch):
    from skrl import config

    monkeypatch.setattr(config.jax, "backend", "jax")
    env, agent = _trained("jax", algorithm, tmp_path, timesteps=64)
    path = os.path.join(str(tmp_path), "saved")
    agent.save(path)
    _assert_reloads("jax", algorithm, env, agent, path, tmp_path)


def test_checkpoint_memory_holds_every_agents_memory(backend, tmp_path):
    cfg = {"rollouts": 16, "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0,
                                          "checkpoint_memory": True}}
    env = wrapped_signal_env(backend)
    agent = make_multi_agent(backend, "MAPPO", env, cfg)
    trainer(backend, env, agent, 40).train()
    path = os.path.join(str(tmp_path), "saved.pt" if backend == "torch" else "saved")
    agent.save(path)
    fresh = make_multi_agent(backend, "MAPPO", env, {**cfg, "experiment": {**cfg["experiment"],
                                                                           "directory": str(tmp_path / "fresh")}})
    fresh.init(trainer_cfg={"timesteps": 0})
    fresh.load(path)
    for uid in UIDS:
        memory, expected = fresh.memories[uid], agent.memories[uid]
        assert memory.memory_index == expected.memory_index == 40 % 16
        for name in ("states", "actions", "rewards", "log_prob", "values"):
            np.testing.assert_array_equal(to_numpy(memory.tensors[name]), to_numpy(expected.tensors[name]), name)
