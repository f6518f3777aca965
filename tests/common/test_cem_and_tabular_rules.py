"""Backend-free rules of CEM, TRPO, Q-learning and SARSA: elite selection, the TD update and config validation."""

import numpy as np
import pytest

from skrl.common.cem import CEM_DEFAULT_CONFIG, CEMConfig, episode_returns, select_elites
from skrl.common.errors import InvalidConfigValueError
from skrl.common.tabular import Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG, TabularConfig, table_rows, td_delta
from skrl.common.trpo import TRPO_DEFAULT_CONFIG, TRPOConfig


@pytest.mark.parametrize("rewards, dones, gamma, expected_returns, expected_rows", [
    # one env: the episode ending at row 1 (discounted from its first step), the unfinished rest is left out
    ([[1], [1], [1]], [[0], [1], [0]], 0.5, [1.5], [(0, 0, 2)]),
    # two episodes in one env; exponents count from each episode's start
    ([[1], [2], [3], [4]], [[1], [0], [0], [1]], 0.5, [1.0, 2 + 1.5 + 1.0], [(0, 0, 1), (0, 1, 4)]),
    # every env is segmented (skrl 1.4.3 tracked only the first)
    ([[1, 5], [1, 5]], [[0, 1], [1, 0]], 1.0, [2.0, 5.0], [(0, 0, 2), (1, 0, 1)]),
    # no episode ended
    ([[1], [1]], [[0], [0]], 0.9, [], []),
])
def test_episode_returns(rewards, dones, gamma, expected_returns, expected_rows):
    returns, rows = episode_returns(np.asarray(rewards, float), np.asarray(dones, bool), gamma)
    np.testing.assert_allclose(returns, expected_returns)
    assert rows == expected_rows


def test_elites_are_the_episodes_at_or_above_the_percentile():
    rewards = np.array([[1, 0], [1, 3], [0, 0], [5, 1]], dtype=np.float32)[..., None]  # (T, N, 1) as memories hold them
    dones = np.array([[0, 0], [1, 1], [0, 0], [1, 1]], dtype=bool)[..., None]
    elites = select_elites(rewards, dones, discount_factor=1.0, percentile=0.5)
    # returns: env 0 -> 2 (rows 0-1), 5 (rows 2-3); env 1 -> 3 (rows 0-1), 1 (rows 2-3); median 2.5
    assert elites.threshold == pytest.approx(2.5) and elites.mean_return == pytest.approx(2.75)
    np.testing.assert_array_equal(elites.weights, [[0, 1], [0, 1], [1, 0], [1, 0]])
    assert select_elites(rewards, np.zeros_like(dones), 1.0, 0.5) is None


def test_percentile_one_keeps_only_the_best_episode():
    elites = select_elites(np.array([[1.0], [2.0], [3.0]]), np.array([[1], [1], [1]], bool), 1.0, 1.0)
    np.testing.assert_array_equal(elites.weights.reshape(-1), [0, 0, 1])


def test_td_delta_for_q_learning_and_sarsa_targets():
    table = np.arange(2 * 3 * 2, dtype=np.float64).reshape(2, 3, 2)  # (envs, states, actions)
    envs, states, actions = np.array([0, 1]), np.array([0, 2]), np.array([1, 0])
    next_states, next_actions = np.array([1, 0]), np.array([1, 1])
    delta = td_delta(table, envs, states, actions, np.array([1.0, -1.0]), next_states, next_actions,
                     np.array([1.0, 0.0]), learning_rate=0.5, discount_factor=0.9)
    # env 0: 0.5 * (1 + 0.9 * Q[0, 1, 1] - Q[0, 0, 1]) = 0.5 * (1 + 2.7 - 1); env 1 is done: 0.5 * (-1 - Q[1, 2, 0])
    np.testing.assert_allclose(delta, [0.5 * 2.7, 0.5 * (-1 - 10)])


@pytest.mark.parametrize("table_envs, num_envs, expected", [(4, 4, "own"), (1, 4, "shared"), (1, 1, "own")])
def test_table_rows(table_envs, num_envs, expected):
    assert table_rows(table_envs, num_envs) == expected


def test_table_rows_mismatch_names_both_sizes():
    with pytest.raises(ValueError, match="3 environment rows but the batch has 4"):
        table_rows(3, 4)


@pytest.mark.parametrize("config_class, defaults, key, value, message", [
    (TRPOConfig, TRPO_DEFAULT_CONFIG, "conjugate_gradient_steps", 0, "expected an int >= 1"),
    (TRPOConfig, TRPO_DEFAULT_CONFIG, "step_fraction", 1.5, r"expected a number in \[0, 1\]"),
    (TRPOConfig, TRPO_DEFAULT_CONFIG, "max_kl_divergence", -0.1, "expected a number >= 0"),
    (CEMConfig, CEM_DEFAULT_CONFIG, "percentile", 70, r"expected a number in \[0, 1\]"),
    (CEMConfig, CEM_DEFAULT_CONFIG, "rollouts", 2.5, "expected an int >= 1"),
    (TabularConfig, Q_LEARNING_DEFAULT_CONFIG, "learning_rate", "0.5", "expected a number >= 0"),
])
def test_invalid_values_name_the_key_and_what_is_allowed(config_class, defaults, key, value, message):
    with pytest.raises(InvalidConfigValueError, match=f"Invalid `{key}`: {message}. Received: {key}="):
        config_class.from_dict({**defaults, key: value})


def test_default_configs_match_reference_section_11():
    assert {k: v for k, v in TRPO_DEFAULT_CONFIG.items() if k not in ("experiment",) and "kwargs" not in k} == {
        "rollouts": 16, "learning_epochs": 8, "mini_batches": 2, "discount_factor": 0.99, "lambda": 0.95,
        "value_learning_rate": 1e-3, "learning_rate_scheduler": None, "state_preprocessor": None,
        "value_preprocessor": None, "random_timesteps": 0, "learning_starts": 0, "grad_norm_clip": 0.5,
        "value_loss_scale": 1.0, "damping": 0.1, "max_kl_divergence": 0.01, "conjugate_gradient_steps": 10,
        "max_backtrack_steps": 10, "accept_ratio": 0.5, "step_fraction": 1.0, "rewards_shaper": None,
        "time_limit_bootstrap": False}
    assert {k: v for k, v in CEM_DEFAULT_CONFIG.items() if k not in ("experiment",) and "kwargs" not in k} == {
        "rollouts": 16, "percentile": 0.7, "discount_factor": 0.99, "learning_rate": 1e-2,
        "learning_rate_scheduler": None, "state_preprocessor": None, "random_timesteps": 0, "learning_starts": 0,
        "rewards_shaper": None, "mixed_precision": False}
    for defaults in (Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG):
        assert {k: v for k, v in defaults.items() if k != "experiment"} == {
            "discount_factor": 0.99, "random_timesteps": 0, "learning_starts": 0, "learning_rate": 0.5,
            "rewards_shaper": None}
    assert Q_LEARNING_DEFAULT_CONFIG is not SARSA_DEFAULT_CONFIG
