"""Scripted transitions give hand-checked TensorBoard values, identical on torch and JAX.

Two envs, 8 steps, written every 4 steps (TB steps 4 and 8). Rewards and episode ends per step ``t``::

    t        0   1   2   3 | 4   5   6   7
    env 0    1   3  -2   0 | 4   1   1   2     ends at t=1 (terminated: 1+3 = 4, 2 steps), t=5 (truncated: 3, 4 steps)
    env 1    2   2   2   2 |-1   5   0   1     ends at t=2 (truncated: 6, 3 steps), t=7 (terminated: 2-1+5+0+1 = 7,
                                                5 steps: it spans the write at step 4 and counts whole)
"""

import numpy as np
import pytest
from builders import make_ppo, read_events, wrapped_gym_env

from skrl.common.agent_core import AgentCore

REWARDS = np.array([[1, 2], [3, 2], [-2, 2], [0, 2], [4, -1], [1, 5], [1, 0], [2, 1]], dtype=np.float32)
TERMINATED = np.zeros((8, 2), dtype=bool)
TRUNCATED = np.zeros((8, 2), dtype=bool)
TERMINATED[1, 0] = TERMINATED[7, 1] = True
TRUNCATED[5, 0] = TRUNCATED[2, 1] = True
#: a device scalar tracked each step, through ``track_data`` (reduced by its suffix)
LOSSES = [0.5, 1.5, 2.5, 3.5, 1.0, 1.0, 2.0, 4.0]

EXPECTED = {
    "Reward / Instantaneous reward (max)": [(4, 3.0), (8, 5.0)],
    "Reward / Instantaneous reward (min)": [(4, -2.0), (8, -1.0)],
    "Reward / Instantaneous reward (mean)": [(4, 10 / 8), (8, 13 / 8)],
    "Reward / Total reward (max)": [(4, 6.0), (8, 7.0)],
    "Reward / Total reward (min)": [(4, 4.0), (8, 3.0)],
    "Reward / Total reward (mean)": [(4, 5.0), (8, 5.0)],
    "Episode / Total timesteps (max)": [(4, 3.0), (8, 5.0)],
    "Episode / Total timesteps (min)": [(4, 2.0), (8, 4.0)],
    "Episode / Total timesteps (mean)": [(4, 2.5), (8, 4.5)],
    "Loss / Policy loss": [(4, 2.0), (8, 2.0)],
    "Target / Target (max)": [(4, 3.5), (8, 4.0)],
    "Target / Target (min)": [(4, 0.5), (8, 1.0)],
}


def _as_backend(backend, x):
    if backend == "torch":
        import torch

        return torch.as_tensor(x)
    import jax.numpy as jnp

    return jnp.asarray(x)


def _scripted_run(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    agent = make_ppo(backend, env, {"rollouts": 1000, "experiment": {
        "directory": str(tmp_path / backend), "experiment_name": "run", "write_interval": 4, "checkpoint_interval": 0}},
        memory_size=8)
    agent.init(trainer_cfg={"timesteps": 8})
    for t in range(8):
        rewards, terminated, truncated = (_as_backend(backend, x[t].reshape(2, 1)) for x in (REWARDS, TERMINATED, TRUNCATED))
        AgentCore.record_transition(agent, None, None, rewards, None, terminated, truncated, {}, t, 8)
        loss = _as_backend(backend, np.float32(LOSSES[t]))
        for tag in ("Loss / Policy loss", "Target / Target (max)", "Target / Target (min)"):
            agent.track_data(tag, loss)
        agent.post_interaction(t, 8)
    events = read_events(agent.experiment_dir)  # before close: every write is flushed at once
    agent.close()
    return events


def test_scripted_transitions_give_known_values(backend, tmp_path):
    events = _scripted_run(backend, tmp_path)
    assert set(EXPECTED) <= set(events)
    for tag, expected in EXPECTED.items():
        assert [step for step, _ in events[tag]] == [step for step, _ in expected], tag
        np.testing.assert_allclose([v for _, v in events[tag]], [v for _, v in expected], rtol=1e-6, err_msg=tag)


def test_torch_and_jax_write_identical_numbers(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    torch_events, jax_events = _scripted_run("torch", tmp_path), _scripted_run("jax", tmp_path)
    assert torch_events == jax_events
