"""Q-learning and SARSA on both backends with configurations drawn from their config space (own or shared Q-table,
exploration rate): a short training, exactly the base tags of reference 2.5, and save -> load -> identical actions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from misc_agents import toy_text_env
from misc_checks import EXAMPLES, check_save_load, check_tags, train, unit


@st.composite
def tabular_cases(draw):
    return {"shaper": draw(st.booleans()), "num_envs": draw(st.integers(1, 3)), "shared_table": draw(st.booleans()),
            "epsilon": draw(unit), "cfg": {
                "discount_factor": draw(unit), "learning_rate": draw(unit), "random_timesteps": draw(st.integers(0, 5)),
                "learning_starts": draw(st.integers(0, 5))}}


@pytest.mark.parametrize("name", ["q_learning", "sarsa"])
@EXAMPLES
@given(case=tabular_cases())
def test_tabular_configurations(backend, tmp_path, name, case):
    env = toy_text_env(backend, "FrozenLake-v1", num_envs=case["num_envs"], is_slippery=True)
    agent, fresh = train(backend, name, case, tmp_path, env, 40, epsilon=case["epsilon"],
                         shared_table=case["shared_table"])
    check_tags(agent, name, case, updated=True)
    check_save_load(backend, name, agent, env, fresh, tmp_path)
