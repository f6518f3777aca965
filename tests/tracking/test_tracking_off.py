"""``write_interval: 0``: no writer, no directory, and nothing that grows with the number of steps."""

import os
import tracemalloc

import numpy as np
import pytest
from builders import make_ppo, trainer, wrapped_gym_env

from skrl.common.agent_core import AgentCore

OFF = {"write_interval": 0, "checkpoint_interval": 0}


@pytest.fixture
def no_summary_writer(monkeypatch):
    """Fail the test if any tensorboardX SummaryWriter is created."""
    import tensorboardX

    def refuse(*args, **kwargs):
        raise AssertionError("a SummaryWriter was created with tracking off")

    monkeypatch.setattr(tensorboardX.SummaryWriter, "__init__", refuse)


def _as_backend(backend, x):
    if backend == "torch":
        import torch

        return torch.as_tensor(x)
    import jax.numpy as jnp

    return jnp.asarray(x)


def test_training_with_tracking_off_writes_nothing(backend, tmp_path, no_summary_writer):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"rollouts": 16, "mini_batches": 2, "learning_epochs": 1,
                                    "experiment": {"directory": str(tmp_path), **OFF}})
    trainer(backend, env, agent, 64).train()
    assert agent.tracking_data == {}
    assert os.listdir(tmp_path) == []
    assert not os.path.exists(agent.experiment_dir)


def test_tracking_state_does_not_grow(backend, tmp_path, no_summary_writer):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"rollouts": 10**9, "experiment": {"directory": str(tmp_path), **OFF}}, memory_size=16)
    agent.init(trainer_cfg={"timesteps": 10**6})
    rewards = _as_backend(backend, np.ones((2, 1), np.float32))
    done = _as_backend(backend, np.array([[True], [False]]))
    loss = _as_backend(backend, np.float32(0.5))

    def steps(start, count):
        for t in range(start, start + count):
            AgentCore.record_transition(agent, None, None, rewards, None, done, done, {}, t, 10**6)
            agent.track_data("Loss / Policy loss", loss)
            agent.track_data("Info / scalar", 1.0)
            agent.post_interaction(t, 10**6)

    steps(0, 200)  # warm-up: caches, lazily created objects
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    steps(200, 5000)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 16 * 1024, f"tracking state grew by {grown} bytes over 5000 steps"
    assert agent.tracking_data == {}
    assert not os.path.exists(agent.experiment_dir)
