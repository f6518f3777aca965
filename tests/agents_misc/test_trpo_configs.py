"""TRPO on both backends with configurations drawn from its config space (reference section 12 ranges): a short
training, exactly the TensorBoard tags of reference 2.5, and save -> load into a fresh agent -> identical actions."""

import gymnasium
import numpy as np
from builders import wrapped_random_env
from hypothesis import given
from hypothesis import strategies as st
from misc_checks import EXAMPLES, check_save_load, check_tags, draw_resources, train, unit


@st.composite
def trpo_cases(draw):
    return {**draw_resources(draw), "value_preprocessor": draw(st.booleans()), "multivariate": draw(st.booleans()),
            "cfg": {"rollouts": draw(st.integers(1, 5)), "learning_epochs": draw(st.integers(1, 5)),
                    "mini_batches": draw(st.integers(1, 5)), "discount_factor": draw(unit), "lambda": draw(unit),
                    "value_learning_rate": draw(st.floats(1e-10, 1)), "grad_norm_clip": draw(unit),
                    "value_loss_scale": draw(unit), "damping": draw(unit), "max_kl_divergence": draw(unit),
                    "conjugate_gradient_steps": draw(st.integers(1, 5)), "max_backtrack_steps": draw(st.integers(1, 5)),
                    "accept_ratio": draw(unit), "step_fraction": draw(unit), "random_timesteps": draw(st.integers(0, 5)),
                    "learning_starts": draw(st.integers(0, 5)), "time_limit_bootstrap": draw(st.booleans())}}


@EXAMPLES
@given(case=trpo_cases())
def test_trpo_configurations(backend, tmp_path, case):
    space = gymnasium.spaces.Discrete(3) if case["discrete"] else gymnasium.spaces.Box(-1, 1, (3,), np.float32)
    env = wrapped_random_env(backend, case["num_envs"], space)
    timesteps = 5 * case["cfg"]["rollouts"] + case["cfg"]["learning_starts"]
    multivariate = case["multivariate"] and backend == "torch" and not case["discrete"]
    agent, fresh = train(backend, "trpo", case, tmp_path, env, timesteps, multivariate=multivariate)
    check_tags(agent, "trpo", case, updated=True)
    check_save_load(backend, "trpo", agent, env, fresh, tmp_path)
