"""``experiment.checkpoint_memory``: the memory's contents travel in the checkpoint and come back on ``load``."""

import os

import numpy as np
import pytest
from builders import make_ppo, to_numpy, trainer, wrapped_gym_env

from skrl.common.errors import CheckpointMismatchError


def _agent(backend, tmp_path, name, memory_size=32, checkpoint_memory=True):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    experiment = {"directory": str(tmp_path), "experiment_name": name, "write_interval": 0,
                  "checkpoint_interval": 0, "checkpoint_memory": checkpoint_memory}
    return env, make_ppo(backend, env, {"rollouts": 1000, "experiment": experiment}, memory_size=memory_size)


def _memory_contents(memory):
    return {name: to_numpy(tensor).copy() for name, tensor in memory.tensors.items()}


def test_memory_contents_and_cursor_come_back(backend, tmp_path):
    env, agent = _agent(backend, tmp_path, "source")
    trainer(backend, env, agent, 45).train()  # 45 steps into a 32-step ring: filled, cursor at 13
    path = os.path.join(tmp_path, "agent.ckpt")
    agent.save(path)
    saved = _memory_contents(agent.memory)
    assert agent.memory.filled and agent.memory.memory_index == 13

    _, fresh = _agent(backend, tmp_path, "target")
    fresh.init(trainer_cfg={"timesteps": 1})
    fresh.load(path)
    assert fresh.memory.filled and fresh.memory.memory_index == 13 and fresh.memory.env_index == 0
    restored = _memory_contents(fresh.memory)
    assert sorted(restored) == sorted(saved)
    for name in saved:
        np.testing.assert_array_equal(restored[name], saved[name], err_msg=name)


def test_memory_is_left_out_unless_asked(backend, tmp_path):
    env, agent = _agent(backend, tmp_path, "plain", checkpoint_memory=False)
    trainer(backend, env, agent, 5).train()
    path = os.path.join(tmp_path, "agent.ckpt")
    agent.save(path)
    assert "memory" not in agent._read_state(path)


def test_a_memory_of_another_size_is_refused_and_nothing_is_loaded(backend, tmp_path):
    env, agent = _agent(backend, tmp_path, "source")
    trainer(backend, env, agent, 10).train()
    path = os.path.join(tmp_path, "agent.ckpt")
    agent.save(path)

    _, other = _agent(backend, tmp_path, "target", memory_size=16)
    other.init(trainer_cfg={"timesteps": 1})
    other.memory.create_tensor("states", 3)
    before = _memory_contents(other.memory)
    with pytest.raises(CheckpointMismatchError, match=r"(?s)\[memory\].*memory_size, num_envs: saved \(32, 2\)"):
        other.load(path)
    after = _memory_contents(other.memory)
    assert other.memory.memory_index == 0 and not other.memory.filled
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_resuming_mid_rollout_without_the_memory_collects_a_whole_rollout(backend, tmp_path):
    """A checkpoint 8 steps into a 32-step rollout, without its memory: the resumed run must not update on rows it
    never filled (they hold NaN), so its parameters stay finite."""
    def build(name):
        env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
        experiment = {"directory": str(tmp_path), "experiment_name": name, "write_interval": 0, "checkpoint_interval": 0}
        return env, make_ppo(backend, env, {"rollouts": 32, "experiment": experiment}, memory_size=32)

    env, agent = build("source")
    trainer(backend, env, agent, 40).train()
    path = os.path.join(tmp_path, "agent.ckpt")
    agent.save(path)

    env, resumed = build("target")
    resumed.init(trainer_cfg={"timesteps": 100})
    resumed.load(path)
    trainer(backend, env, resumed, 100).train()  # steps 41..100: one update, after a whole new rollout
    leaves = [to_numpy(v) for v in resumed._host_state()["policy"].values()] if backend == "torch" else \
        [np.asarray(leaf) for leaf in __import__("jax").tree_util.tree_leaves(resumed._host_state()["policy"])]
    assert leaves and all(np.isfinite(leaf).all() for leaf in leaves)
