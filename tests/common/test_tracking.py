import numpy as np
import pytest

from skrl.common.tracking import (
    TrackingBuffer,
    episode_statistics_init,
    episode_statistics_scalars,
    episode_statistics_update,
    reduce_tag,
    reset_interval,
)


@pytest.mark.parametrize("tag, expected", [("Loss (min)", 1.0), ("Loss (max)", 3.0), ("Loss (mean)", 2.0), ("Loss", 2.0)])
def test_reduce_by_suffix(tag, expected):
    assert reduce_tag(tag, np.array([1.0, 2.0, 3.0])) == expected


def test_buffer_drains_once():
    buffer = TrackingBuffer()
    for v in (1.0, 5.0):
        buffer.record("A (max)", v)
        buffer.record("B", v)
    out = buffer.drain(lambda values: [np.asarray(v) for v in values])
    assert out == {"A (max)": 5.0, "B": 3.0}
    assert buffer == {}


def _run(steps):
    stats = episode_statistics_init(np, 2)
    for rewards, done in steps:
        stats = episode_statistics_update(np, stats, np.array(rewards, np.float32).reshape(-1, 1),
                                          np.array(done).reshape(-1, 1))
    return stats


def test_episode_statistics_per_episode_mean():
    # env 0: episode of 3 steps (return 3); env 1: episode of 1 step (return 10), then one of 2 steps (return 4)
    stats = _run([([1, 10], [0, 1]), ([1, 2], [0, 0]), ([1, 2], [1, 1])])
    scalars = episode_statistics_scalars(stats)
    assert scalars["Reward / Total reward (max)"] == 10
    assert scalars["Reward / Total reward (min)"] == 3
    assert scalars["Reward / Total reward (mean)"] == pytest.approx((3 + 10 + 4) / 3)
    assert scalars["Episode / Total timesteps (mean)"] == pytest.approx(2.0)
    assert scalars["Reward / Instantaneous reward (mean)"] == pytest.approx(17 / 6)
    assert scalars["Reward / Instantaneous reward (min)"] == 1


def test_episode_spanning_a_write_counts_whole():
    stats = _run([([1, 1], [0, 0])])
    assert "Reward / Total reward (mean)" not in episode_statistics_scalars(stats)
    stats = reset_interval(stats, episode_statistics_init(np, 2))
    stats = episode_statistics_update(np, stats, np.array([[2.0], [0.0]], np.float32), np.array([[1], [0]]))
    scalars = episode_statistics_scalars(stats)
    assert scalars["Reward / Total reward (mean)"] == 3.0
    assert scalars["Episode / Total timesteps (max)"] == 2.0
