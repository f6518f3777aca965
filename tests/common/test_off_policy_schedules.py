"""The backend-free off-policy policies as tables: noise scale, epsilon, TD3 delay, plans and step reductions."""

import math

import numpy as np
import pytest

from skrl.common.errors import InvalidConfigValueError
from skrl.common.off_policy import (
    EpsilonSchedule,
    NoiseScaleSchedule,
    UpdatePlan,
    delayed_policy_updates,
    reduce_over_steps,
    td_target,
)


@pytest.mark.parametrize("schedule, timestep, timesteps, expected", [
    (NoiseScaleSchedule(1.0, 0.0, 10), 0, 100, 1.0),
    (NoiseScaleSchedule(1.0, 0.0, 10), 5, 100, 0.5),
    (NoiseScaleSchedule(1.0, 0.0, 10), 10, 100, 0.0),
    (NoiseScaleSchedule(1.0, 0.0, 10), 11, 100, None),
    (NoiseScaleSchedule(1.0, 1e-3, None), 50, 100, 0.5005),
    (NoiseScaleSchedule(1.0, 1e-3, None), 101, 100, None),
    (NoiseScaleSchedule(1.0, 0.0, 0), 0, 100, None),
])
def test_noise_scale(schedule, timestep, timesteps, expected):
    scale = schedule.scale(timestep, timesteps)
    assert scale == expected if expected is None else math.isclose(scale, expected)


@pytest.mark.parametrize("schedule, timestep, expected", [
    (EpsilonSchedule(1.0, 0.05, 1000), 0, 1.0),
    (EpsilonSchedule(1.0, 0.05, 1000), 1000, 0.05 + 0.95 * math.exp(-1)),
    (EpsilonSchedule(0.5, 0.5, 10), 7, 0.5),
    (EpsilonSchedule(1.0, 0.05, None), 3, None),
    (EpsilonSchedule(1.0, 0.05, 0), 3, None),
])
def test_epsilon(schedule, timestep, expected):
    epsilon = schedule.epsilon(timestep)
    assert epsilon == expected if expected is None else math.isclose(epsilon, expected)


@pytest.mark.parametrize("counter, steps, delay, expected", [
    (0, 1, 2, (False,)),
    (1, 1, 2, (True,)),
    (1, 3, 2, (True, False, True)),
    (0, 3, 1, (True, True, True)),
    (5, 2, 3, (True, False)),
])
def test_td3_delayed_policy_updates(counter, steps, delay, expected):
    assert delayed_policy_updates(counter, steps, delay) == expected


def test_plan_counts_the_steps_of_each_optimizer():
    plan = UpdatePlan(policy_updates=(False, True, False, True), first_step=10, first_policy_step=4)
    assert plan.steps == 4
    assert plan.step_counts("critic") == [10, 11, 12, 13, 14]
    assert plan.step_counts("policy") == [4, 4, 5, 5, 6]


@pytest.mark.parametrize("cls, args, match", [
    (NoiseScaleSchedule, (1.0, 0.0, -1), r"`exploration.timesteps`: expected an int >= 0"),
    (EpsilonSchedule, (1.5, 0.0, 10), r"`exploration.initial_epsilon`: expected a number in \[0.0, 1.0\]"),
    (NoiseScaleSchedule, ("x", 0.0, 10), r"`exploration.initial_scale`"),
])
def test_bad_schedules_name_the_key(cls, args, match):
    with pytest.raises(InvalidConfigValueError, match=match):
        cls(*args)


def test_reduce_over_steps_keeps_extremes_and_masked_means():
    results = {"q1_max": np.array([1.0, 3.0]), "q1_min": np.array([-1.0, -4.0]), "critic_loss": np.array([1.0, 2.0]),
               "policy_loss": np.array([0.0, 6.0])}
    reduced = reduce_over_steps(np, results, {"policy_loss": np.array([False, True])})
    assert reduced == {"q1_max": 3.0, "q1_min": -4.0, "critic_loss": 1.5, "policy_loss": 6.0}


def test_td_target_stops_at_terminations_and_truncations():
    rewards, next_values = np.array([[1.0], [1.0], [1.0]]), np.array([[10.0], [10.0], [10.0]])
    terminated, truncated = np.array([[False], [True], [False]]), np.array([[False], [False], [True]])
    np.testing.assert_allclose(td_target(np, rewards, terminated, truncated, 0.5, next_values), [[6.0], [1.0], [1.0]])
