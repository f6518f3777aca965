"""``episode_statistics_update_block`` (K steps at once) equals a plain-Python reference and the per-step update."""

import math

import numpy as np
import pytest

from skrl.common.tracking import (
    episode_statistics_init,
    episode_statistics_scalars,
    episode_statistics_update,
    episode_statistics_update_block,
)

NUM_ENVS, STEPS = 5, 120


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(STEPS, NUM_ENVS)).astype(np.float32), rng.uniform(size=(STEPS, NUM_ENVS)) < 0.15


def _reference(rewards, done):
    """Episode returns/lengths env by env, in plain Python."""
    returns, lengths, running = [], [], [[0.0, 0] for _ in range(rewards.shape[1])]
    for t in range(rewards.shape[0]):
        for e in range(rewards.shape[1]):
            running[e][0] += float(rewards[t, e])
            running[e][1] += 1
            if done[t, e]:
                returns.append(running[e][0])
                lengths.append(running[e][1])
                running[e] = [0.0, 0]
    return returns, lengths, running


def _namespace(name):
    if name == "numpy":
        return np, np.asarray
    if name == "torch":
        torch = pytest.importorskip("torch")
        return torch, torch.as_tensor
    jnp = pytest.importorskip("jax.numpy")
    return jnp, jnp.asarray


def _init(xp, name):
    return episode_statistics_init(xp, NUM_ENVS, like={"device": "cpu"} if name == "torch" else None)


@pytest.mark.parametrize("name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("block", [1, 7, 64, STEPS])
def test_blocks_match_the_reference(name, block):
    xp, convert = _namespace(name)
    rewards, done = _data()
    stats = _init(xp, name)
    for start in range(0, STEPS, block):
        stats = episode_statistics_update_block(xp, stats, convert(rewards[start:start + block]),
                                                convert(done[start:start + block]))
    host = {k: np.asarray(v) for k, v in stats.items()}
    returns, lengths, running = _reference(rewards, done)
    scalars = episode_statistics_scalars(host)
    assert scalars["Reward / Total reward (min)"] == pytest.approx(min(returns), abs=1e-4)
    assert scalars["Reward / Total reward (max)"] == pytest.approx(max(returns), abs=1e-4)
    assert scalars["Reward / Total reward (mean)"] == pytest.approx(np.mean(returns), abs=1e-4)
    assert scalars["Episode / Total timesteps (mean)"] == pytest.approx(np.mean(lengths))
    assert (scalars["Episode / Total timesteps (min)"], scalars["Episode / Total timesteps (max)"]) == (min(lengths), max(lengths))
    assert scalars["Reward / Instantaneous reward (mean)"] == pytest.approx(rewards.mean(), abs=1e-5)
    np.testing.assert_allclose(host["cum_reward"], [r for r, _ in running], atol=1e-4)
    np.testing.assert_array_equal(host["cum_length"], [n for _, n in running])
    assert all(v.dtype == np.float32 for v in host.values())


def test_blocks_equal_per_step_updates():
    rewards, done = _data(1)
    per_step = episode_statistics_init(np, NUM_ENVS)
    for t in range(STEPS):
        per_step = episode_statistics_update(np, per_step, rewards[t][:, None], done[t][:, None])
    blocked = episode_statistics_init(np, NUM_ENVS)
    for start in range(0, STEPS, 64):
        blocked = episode_statistics_update_block(np, blocked, rewards[start:start + 64], done[start:start + 64])
    for key in per_step:
        np.testing.assert_allclose(blocked[key], per_step[key], rtol=1e-5, atol=1e-4, err_msg=key)


def test_padded_blocks_under_jit_ignore_the_padding():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    update = jax.jit(lambda stats, r, d, steps: episode_statistics_update_block(jnp, stats, r, d, steps))
    rewards, done = _data(2)
    stats, size = episode_statistics_init(jnp, NUM_ENVS), 64
    for start in range(0, STEPS, 50):  # 50 real rows in blocks of 64 (padded with rewards 9 and dones)
        r, d = rewards[start:start + 50], done[start:start + 50]
        pad = size - r.shape[0]
        stats = update(stats, np.concatenate([r, np.full((pad, NUM_ENVS), 9.0, np.float32)]),
                       np.concatenate([d, np.ones((pad, NUM_ENVS), bool)]), r.shape[0])
    returns, lengths, _ = _reference(rewards, done)
    scalars = episode_statistics_scalars({k: np.asarray(v) for k, v in stats.items()})
    assert scalars["Reward / Total reward (max)"] == pytest.approx(max(returns), abs=1e-4)
    assert scalars["Episode / Total timesteps (max)"] == max(lengths)
    assert scalars["Reward / Instantaneous reward (max)"] == pytest.approx(rewards.max())
    assert float(stats["reward_count"]) == STEPS * NUM_ENVS
    assert not math.isinf(scalars["Reward / Instantaneous reward (min)"])


@pytest.mark.parametrize(("backend", "stats_backend"),
                         [("torch", None), ("jax", "numpy"), ("jax", "jax"), ("jax", "jax-device")])
def test_agent_statistics_over_many_blocks_with_reused_reward_buffers(backend, stats_backend, tmp_path):
    """An agent folds its steps in blocks: over 120 steps (several blocks, writes mid-block) the written totals are
    the per-episode reference, even when the env overwrites one reward/done buffer in place every step (Isaac Lab
    does), and with either JAX statistics location (host NumPy on the CPU; "jax-device": the jitted device fold
    that an accelerator uses, forced here on the CPU)."""
    from builders import make_ppo, read_events, wrapped_gym_env

    from skrl import config
    from skrl.common.agent_core import AgentCore

    previous = config.jax.backend if backend == "jax" else None
    if backend == "jax":
        config.jax.backend = "jax" if stats_backend == "jax-device" else stats_backend
    try:
        rewards, done = _data(seed=7)
        env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=NUM_ENVS)
        agent = make_ppo(backend, env, {"rollouts": 10**6, "experiment": {
            "directory": str(tmp_path), "experiment_name": "run", "write_interval": 40, "checkpoint_interval": 0}},
            memory_size=4)
        if stats_backend == "jax-device":
            agent._stats_on_device = lambda: True
            agent._pending_steps = agent._new_pending_steps()
        agent.init(trainer_cfg={"timesteps": STEPS})
        if stats_backend == "jax-device":
            assert isinstance(agent._pending_steps, list)  # device snapshots, folded by the jitted block fold
        if backend == "torch":
            import torch

            reward_buffer, done_buffer = torch.zeros(NUM_ENVS, 1), torch.zeros(NUM_ENVS, 1, dtype=torch.bool)
            fill = lambda buffer, value: buffer.copy_(torch.as_tensor(value).reshape(-1, 1))  # noqa: E731
        else:
            reward_buffer, done_buffer = np.zeros((NUM_ENVS, 1), np.float32), np.zeros((NUM_ENVS, 1), bool)
            fill = lambda buffer, value: np.copyto(buffer, np.asarray(value).reshape(-1, 1))  # noqa: E731
        no = np.zeros((NUM_ENVS, 1), bool)
        for t in range(STEPS):
            fill(reward_buffer, rewards[t])
            fill(done_buffer, done[t])
            AgentCore.record_transition(agent, None, None, reward_buffer, None, done_buffer, no, {}, t, STEPS)
            agent.post_interaction(t, STEPS)
        events = read_events(agent.experiment_dir)
        agent.close()
    finally:
        if previous is not None:
            config.jax.backend = previous
    for stop in (40, 80, 120):
        returns, lengths = _interval_episodes(rewards, done, stop - 40, stop)
        for tag, expected in (("Reward / Total reward (max)", max(returns)), ("Reward / Total reward (min)", min(returns)),
                              ("Reward / Total reward (mean)", np.mean(returns)),
                              ("Episode / Total timesteps (mean)", np.mean(lengths)),
                              ("Reward / Instantaneous reward (mean)", rewards[stop - 40:stop].mean())):
            assert dict(events[tag])[stop] == pytest.approx(expected, rel=1e-4, abs=1e-5), (tag, stop)


def _interval_episodes(rewards, done, start, stop):
    """Returns and lengths of the episodes that end in steps ``[start, stop)``."""
    returns, lengths = [], []
    running, length = np.zeros(rewards.shape[1]), np.zeros(rewards.shape[1])
    for t in range(stop):
        running += rewards[t]
        length += 1
        for e in np.flatnonzero(done[t]):
            if t >= start:
                returns.append(running[e])
                lengths.append(length[e])
            running[e], length[e] = 0.0, 0
    return returns, lengths


def test_host_step_block_folds_like_the_reference_and_copies_the_env_buffers():
    """The host block (JAX agents with NumPy envs) keeps its own copy of each step: an env that reuses its reward
    and done buffers in place does not change what was recorded. Folds of partial blocks (a write in between)
    chain like whole ones."""
    from skrl.common.tracking import HostStepBlock

    rewards, done = _data()
    block, stats = HostStepBlock(capacity=64), _init(np, "numpy")
    buffer_rewards, buffer_terminated = np.zeros((NUM_ENVS, 1), np.float32), np.zeros((NUM_ENVS, 1), bool)
    truncated = np.zeros((NUM_ENVS, 1), bool)
    for t in range(STEPS):
        buffer_rewards[:, 0], buffer_terminated[:, 0] = rewards[t], done[t]  # the env writes in place
        block.append((buffer_rewards, buffer_terminated, truncated))
        if len(block) == 64 or t % 50 == 49:
            stats = block.fold(stats)
            assert len(block) == 0
    stats = block.fold(stats)
    returns, lengths, running = _reference(rewards, done)
    host = {k: np.asarray(v) for k, v in stats.items()}
    assert host["episodes"] == len(returns)
    np.testing.assert_allclose(host["return_sum"], sum(returns), rtol=1e-5)
    np.testing.assert_allclose([host["return_min"], host["return_max"]], [min(returns), max(returns)], rtol=1e-5)
    assert (host["length_min"], host["length_max"]) == (min(lengths), max(lengths))
    np.testing.assert_allclose(host["cum_reward"], [r for r, _ in running], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(host["cum_length"], [n for _, n in running])
