"""CEM on both backends with configurations drawn from its config space: a short training, exactly the
TensorBoard tags of reference 2.5, and save -> load into a fresh agent -> identical actions."""

import gymnasium
import numpy as np
from builders import read_events, wrapped_random_env
from hypothesis import given
from hypothesis import strategies as st
from misc_checks import EXAMPLES, check_save_load, check_tags, draw_resources, train, unit


@st.composite
def cem_cases(draw):
    return {**draw_resources(draw), "cfg": {
        "rollouts": draw(st.integers(1, 5)), "percentile": draw(unit), "discount_factor": draw(unit),
        "learning_rate": draw(st.floats(1e-10, 1)), "random_timesteps": draw(st.integers(0, 5)),
        "learning_starts": draw(st.integers(0, 5)), "mixed_precision": draw(st.booleans())}}


@EXAMPLES
@given(case=cem_cases())
def test_cem_configurations(backend, tmp_path, case):
    space = gymnasium.spaces.Discrete(3) if case["discrete"] else gymnasium.spaces.Box(-1, 1, (3,), np.float32)
    env = wrapped_random_env(backend, case["num_envs"], space)
    agent, fresh = train(backend, "cem", case, tmp_path, env, 5 * case["cfg"]["rollouts"] + case["cfg"]["learning_starts"])
    # an update happens only when an episode ended inside a rollout; then all its tags are written together
    check_tags(agent, "cem", case, updated="Loss / Policy loss" in read_events(agent.experiment_dir))
    check_save_load(backend, "cem", agent, env, fresh, tmp_path)
