import os

import pytest

from skrl.common.checkpoint_policy import BestModelPolicy, IntervalPolicy, checkpoint_file_name, checkpoint_paths


@pytest.mark.parametrize(
    "interval, timestep, expected",
    [
        (1000, 999, True),  # 1-based step 1000
        (1000, 1000, False),
        (1000, 1999, True),
        (1, 0, False),  # step 1 never fires
        (1, 1, True),
        (0, 999, False),
        (-5, 4, False),
    ],
)
def test_interval_policy_uses_one_based_timestep(interval, timestep, expected):
    assert IntervalPolicy(interval).should_fire(timestep) is expected


def test_worked_example_of_the_reference():
    fired = [t + 1 for t in range(1000) if IntervalPolicy(100).should_fire(t)]
    assert fired == list(range(100, 1001, 100))


@pytest.mark.parametrize(
    "tag, module, best, expected",
    [
        ("1000", None, False, "agent_1000.pt"),
        ("1000", "policy", False, "policy_1000.pt"),
        ("", None, True, "best_agent.pt"),
        ("", "value", True, "best_value.pt"),
    ],
)
def test_file_names(tag, module, best, expected):
    assert checkpoint_file_name(tag, module, ".pt", best=best) == expected


def test_paths_grouped_and_separate():
    grouped = checkpoint_paths("/r", "5", ["policy", "value"], False, ".pt")
    assert grouped == {None: os.path.join("/r", "checkpoints", "agent_5.pt")}
    separate = checkpoint_paths("/r", "5", ["policy", "value"], True, "")
    assert separate == {"policy": os.path.join("/r", "checkpoints", "policy_5"),
                        "value": os.path.join("/r", "checkpoints", "value_5")}


@pytest.mark.parametrize("best, reward, expected", [(float("-inf"), -1e9, True), (10.0, 10.0, False),
                                                    (10.0, 10.5, True), (10.0, float("nan"), False),
                                                    (10.0, None, False)])
def test_best_model_policy(best, reward, expected):
    assert BestModelPolicy(best).is_improvement(reward) is expected
