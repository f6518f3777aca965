"""Exact resume for the RNN variants on both backends: a checkpoint taken mid-episode holds the recurrent states
the next step feeds the models, so N steps, checkpoint, then a fresh agent that loads it and trains N more ends
bit-identical to 2N steps in one go."""

import numpy as np
import pytest
from builders import module, trainer
from resume_worker import ClockEnv
from rnn_cases import gru_models, gru_off_policy_models, make_agent

from skrl.utils import set_seed

HALF = 8


def _flat(agent):
    import jax

    out = {}
    for name, state in agent._module_states().items():
        for path, leaf in jax.tree_util.tree_leaves_with_path(state, is_leaf=lambda x: hasattr(x, "detach")):
            out[f"{name}{jax.tree_util.keystr(path)}"] = np.asarray(leaf.detach() if hasattr(leaf, "detach") else leaf)
    for role, states in agent._rnn_initial_states.items():
        for i, state in enumerate(states):
            out[f"rnn/{role}/{i}"] = np.asarray(state.detach() if hasattr(state, "detach") else state)
    return out


def _run(backend, name, directory, timesteps, checkpoint=None):
    set_seed(5)
    env = module("envs.wrappers", backend).wrap_env(ClockEnv(HALF if checkpoint else 0), wrapper="gymnasium",
                                                    verbose=False)
    experiment = {"directory": directory, "experiment_name": "run", "write_interval": 4, "checkpoint_interval": HALF}
    if name == "PPO_RNN":
        cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "experiment": experiment}
        agent = make_agent(backend, name, env, gru_models(backend, env, sequence_length=2), cfg)
    else:
        cfg = {"batch_size": 2, "learning_starts": 2, "experiment": {**experiment, "checkpoint_memory": True}}
        agent = make_agent(backend, name, env, gru_off_policy_models(backend, "SAC", env, sequence_length=2), cfg,
                           memory_size=32)
    run = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    run.train()
    return _flat(agent)


@pytest.mark.parametrize("name", ["PPO_RNN", "SAC_RNN"])
def test_rnn_resume_is_exact(backend, name, tmp_path):
    whole = _run(backend, name, str(tmp_path / "whole"), 2 * HALF)
    _run(backend, name, str(tmp_path / "first"), HALF)
    ext = ".pt" if backend == "torch" else ""
    resumed = _run(backend, name, str(tmp_path / "second"), 2 * HALF,
                   str(tmp_path / "first" / "run" / "checkpoints" / f"agent_{HALF}{ext}"))
    assert set(resumed) == set(whole)
    for key, value in whole.items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)
