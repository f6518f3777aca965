"""The chunks of a jitted training loop: where it hands control back to the host's data layer."""

import pytest

from skrl.common.jitted_schedule import Chunk, crosses_interval, plan_chunks


@pytest.mark.parametrize("interval, low, high, expected", [
    (100, 64, 128, True),
    (100, 128, 192, False),
    (100, 100, 200, True),
    (100, 99, 100, True),
    (100, 100, 199, False),
    (1, 0, 1, False),  # step 1 never fires, as IntervalPolicy
    (1, 1, 2, True),
    (0, 0, 1000, False),
    (-5, 0, 1000, False),
])
def test_crosses_interval(interval, low, high, expected):
    assert crosses_interval(interval, low, high) is expected


@pytest.mark.parametrize("start, timesteps, rollouts, write, checkpoint, expected", [
    (0, 1024, 128, 256, 512, [Chunk(2, 256, True, False), Chunk(2, 512, True, True), Chunk(2, 768, True, False),
                              Chunk(2, 1024, True, True)]),
    (0, 1000, 128, 0, 0, [Chunk(7, 896, False, False)]),  # whole rollouts only: 104 steps are not run
    (0, 512, 128, 100, 0, [Chunk(1, 128, True, False), Chunk(1, 256, True, False), Chunk(1, 384, True, False),
                           Chunk(1, 512, True, False)]),
    (256, 768, 128, 0, 256, [Chunk(2, 512, False, True), Chunk(2, 768, False, True)]),
    (0, 100, 128, 10, 10, []),
])
def test_plan_chunks(start, timesteps, rollouts, write, checkpoint, expected):
    assert plan_chunks(start, timesteps, rollouts, write, checkpoint) == expected


def test_plan_chunks_rejects_a_bad_rollout_count():
    with pytest.raises(ValueError, match="Invalid `rollouts`.*Received: rollouts=0"):
        plan_chunks(0, 100, 0, 10, 10)
