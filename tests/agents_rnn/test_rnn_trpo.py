"""TRPO_RNN on both backends (skrl-api-agents.md section 10): the stored states and dones reach the policy step's
surrogate and KL calls (the whole rollout, in sequences) and the value steps (contiguous mini-batches), save/load."""

import os

import numpy as np
from builders import trainer, wrapped_random_env
from rnn_cases import HIDDEN, gru_models, make_agent
from test_rnn_agents import _act_from, _record_update_inputs

from skrl.utils import set_seed

NO_FILES = {"write_interval": 0, "checkpoint_interval": 0}


def test_trpo_rnn_feeds_the_states_to_the_policy_and_value_steps_and_saves(backend, tmp_path):
    set_seed(0)
    env = wrapped_random_env(backend, num_envs=2)
    models = gru_models(backend, env, sequence_length=2)
    seen = {"policy": [], "value": []}
    for role, model in models.items():
        _record_update_inputs(model, seen[role])
    cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, "TRPO_RNN", env, models, cfg)
    trainer(backend, env, agent, timesteps=8).train()
    assert os.path.basename(agent.experiment_dir).endswith("_TRPO_RNN")
    assert {"rnn_policy_0", "rnn_value_0"} <= set(agent.memory.get_tensor_names())
    # the policy step: the whole rollout (4 steps x 2 envs); the value steps: 2 mini-batches of 4 rows
    assert seen["policy"] and set(seen["policy"]) == {(((1, 8, HIDDEN),), (8, 1))}
    assert seen["value"] and set(seen["value"]) == {(((1, 4, HIDDEN),), (4, 1))}

    path = os.path.join(str(tmp_path), "agent.pt" if backend == "torch" else "agent")
    agent.save(path)
    set_seed(2)
    fresh = make_agent(backend, "TRPO_RNN", env, gru_models(backend, env, sequence_length=2), cfg)
    fresh.load(path)
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, (2, 5)).astype(np.float32)
    rnn_states = rng.normal(size=(2, 1, 2, HIDDEN)).astype(np.float32)
    if backend == "torch":
        import torch

        states, rnn_states = torch.as_tensor(states), torch.as_tensor(rnn_states)
    expected, actual = _act_from(agent, states, rnn_states, backend), _act_from(fresh, states, rnn_states, backend)
    for a, b in zip(expected, actual):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
