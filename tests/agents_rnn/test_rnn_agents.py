"""PPO_RNN, A2C_RNN and RPO_RNN on both backends (skrl-api-agents.md section 10): recurrent states in the memory
and in every model call, PPO's tags, save/load, the non-recurrent case (exactly PPO), learning a memory task."""

import os

import numpy as np
import pytest
from builders import ppo_models, read_events, to_numpy, trainer, wrapped_random_env
from rnn_cases import HIDDEN, gru_models, make_agent, wrapped_cue_env

from skrl.common.errors import InvalidConfigValueError
from skrl.common.rnn import RNNLayout
from skrl.utils import set_seed

NO_FILES = {"write_interval": 0, "checkpoint_interval": 0}


def _record_update_inputs(model, seen):
    """Record the shapes of ``inputs["rnn"]`` and ``inputs["terminated"]`` of the update's calls (JAX: as traced)."""
    act = model.act

    def recording(inputs, *args, **kwargs):
        if inputs.get("terminated") is not None:
            seen.append((tuple(tuple(s.shape) for s in inputs["rnn"]), tuple(inputs["terminated"].shape)))
        return act(inputs, *args, **kwargs)

    model.act = recording


def test_ppo_rnn_trains_on_sequences_stores_the_states_and_tracks_ppos_tags(backend, tmp_path):
    env = wrapped_random_env(backend, num_envs=3)
    models = gru_models(backend, env, sequence_length=4)
    seen = {"policy": [], "value": []}
    for role, model in models.items():
        _record_update_inputs(model, seen[role])
    cfg = {"rollouts": 8, "learning_epochs": 2, "mini_batches": 2,
           "experiment": {"directory": str(tmp_path / "rnn"), "write_interval": 8, "checkpoint_interval": 0}}
    agent = make_agent(backend, "PPO_RNN", env, models, cfg)
    trainer(backend, env, agent, timesteps=32).train()
    assert os.path.basename(agent.experiment_dir).endswith("_PPO_RNN")

    assert agent._rollout == 32 and agent._rnn.sequence_length == 4
    if backend == "jax":  # sequences stay whole: contiguous mini-batches of the env-ordered rows
        assert agent.ppo_functions().shuffle is False
    memory = agent.memory
    policy_states, value_states = (to_numpy(memory.get_tensor_by_name(f"rnn_{role}_0")) for role in ("policy", "value"))
    assert policy_states.shape == value_states.shape == (8, 3, 1, HIDDEN)
    # each row holds the states before its step: zero after a finished episode, and only then (or at the start)
    dones = (to_numpy(memory.get_tensor_by_name("terminated")) | to_numpy(memory.get_tensor_by_name("truncated")))[..., 0]
    assert dones[:-1].any(), "the random env should finish some episodes in 8 steps of 3 envs"
    for states in (policy_states, value_states):
        zero = np.all(states == 0, axis=(-2, -1))
        np.testing.assert_array_equal(zero[1:], dones[:-1])
    # the update feeds every model its stored states, (num_layers, rows, hidden), and the dones, (rows, 1)
    rows = 8 * 3 // 2
    for role in ("policy", "value"):
        assert seen[role] and set(seen[role]) == {(((1, rows, HIDDEN),), (rows, 1))}
    # PPO's tags, on either backend (PPO's are the same on both: tests/cross_backend)
    reference_env = wrapped_random_env("torch", num_envs=3)
    cfg["experiment"] = {**cfg["experiment"], "directory": str(tmp_path / "ppo")}
    reference = make_agent("torch", "PPO", reference_env, ppo_models("torch", reference_env.observation_space,
                                                                   reference_env.action_space), cfg)
    trainer("torch", reference_env, reference, timesteps=32).train()
    tags = set(read_events(agent.experiment_dir))
    assert "Loss / Policy loss" in tags and tags == set(read_events(reference.experiment_dir))


def _act_from(agent, states, rnn_states, backend):
    agent.set_running_mode("eval")
    agent._rnn_initial_states = {"policy": [rnn_states[0]], "value": [rnn_states[1]]}
    _, _, outputs = agent.act(states, timestep=0, timesteps=1)
    return to_numpy(outputs["mean_actions"]), to_numpy(outputs["rnn"][0])


def test_save_then_load_into_a_fresh_agent_gives_the_same_actions(backend, tmp_path):
    env = wrapped_random_env(backend, num_envs=2)
    cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    set_seed(1)
    agent = make_agent(backend, "PPO_RNN", env, gru_models(backend, env, sequence_length=2), cfg)
    trainer(backend, env, agent, timesteps=8).train()
    path = os.path.join(str(tmp_path), "agent.pt" if backend == "torch" else "agent")
    agent.save(path)
    set_seed(2)
    fresh = make_agent(backend, "PPO_RNN", env, gru_models(backend, env, sequence_length=2), cfg)
    fresh.load(path)

    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, (2, 5)).astype(np.float32)
    rnn_states = rng.normal(size=(2, 1, 2, HIDDEN)).astype(np.float32)
    if backend == "torch":
        import torch

        states, rnn_states = torch.as_tensor(states), torch.as_tensor(rnn_states)
    expected = _act_from(agent, states, rnn_states, backend)
    actual = _act_from(fresh, states, rnn_states, backend)
    for a, b in zip(expected, actual):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(expected[1], to_numpy(rnn_states[0]))  # the states did go through the model


def _params(agent, backend):
    if backend == "torch":
        return {f"{role}.{k}": to_numpy(v) for role in ("policy", "value") for k, v in agent.models[role].state_dict().items()}
    import jax

    leaves = jax.tree_util.tree_leaves_with_path({role: agent.models[role].state_dict.params for role in ("policy", "value")})
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


def test_models_without_rnn_specification_train_exactly_as_ppo(backend, tmp_path):
    cfg = {"rollouts": 8, "learning_epochs": 2, "mini_batches": 2, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    params = {}
    for name in ("PPO", "PPO_RNN"):
        set_seed(7)
        env = wrapped_random_env(backend, num_envs=2)
        agent = make_agent(backend, name, env, ppo_models(backend, env.observation_space, env.action_space, env.device),
                           cfg)
        trainer(backend, env, agent, timesteps=24).train()
        params[name] = _params(agent, backend)
        assert getattr(agent, "_rnn", None) is None
        assert not any(n.startswith("rnn_") for n in agent.memory.get_tensor_names())
    assert params["PPO"].keys() == params["PPO_RNN"].keys()
    for key, value in params["PPO"].items():
        np.testing.assert_array_equal(value, params["PPO_RNN"][key], err_msg=key)


def test_ppo_rnn_learns_a_task_that_needs_memory(backend, tmp_path):
    """The cue of step 0 is asked for at step 3: chance (and any feed-forward policy) gets 0.5 per episode."""
    set_seed(0)
    env = wrapped_cue_env(backend, num_envs=16)
    cfg = {"rollouts": 16, "learning_epochs": 4, "mini_batches": 2, "learning_rate": 3e-3, "discount_factor": 0.9,
           "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, "PPO_RNN", env, gru_models(backend, env, sequence_length=4, hidden=16), cfg)
    trainer(backend, env, agent, timesteps=400).train()
    rewards = to_numpy(agent.memory.get_tensor_by_name("rewards"))  # the last rollout: 4 episodes of each env
    mean_return = rewards.sum() / (rewards.shape[0] * rewards.shape[1] / 4)
    assert mean_return > 0.85


@pytest.mark.parametrize("name", ["A2C_RNN", "RPO_RNN"])
def test_a2c_rnn_and_rpo_rnn_train(backend, tmp_path, name):
    env = wrapped_random_env(backend, num_envs=2)
    models = gru_models(backend, env, sequence_length=2)
    seen = []
    _record_update_inputs(models["policy"], seen)
    cfg = {"rollouts": 4, "mini_batches": 2, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, name, env, models, cfg)
    trainer(backend, env, agent, timesteps=12).train()
    assert agent._rollout == 12 and set(seen) == {(((1, 4, HIDDEN),), (4, 1))}
    assert {"rnn_policy_0", "rnn_value_0"} <= set(agent.memory.get_tensor_names())


def test_mini_batches_must_hold_whole_sequences(backend, tmp_path):
    env = wrapped_random_env(backend, num_envs=2)
    cfg = {"rollouts": 8, "mini_batches": 3, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, "PPO_RNN", env, gru_models(backend, env, sequence_length=4), cfg)
    with pytest.raises(InvalidConfigValueError, match=r"Invalid `mini_batches`.*sequence_length 4.*mini_batches=3"):
        agent.init(trainer_cfg={"timesteps": 8})


def test_jitted_trainer_refuses_recurrent_agents(tmp_path):
    from skrl.jax.jitted_trainer import _check_agent

    env = wrapped_random_env("jax", num_envs=2)
    cfg = {"rollouts": 4, "mini_batches": 2, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    with pytest.raises(TypeError, match="recurrent"):
        _check_agent(make_agent("jax", "PPO_RNN", env, gru_models("jax", env, 2), cfg))


class _Model:
    def __init__(self, spec):
        self._spec = spec

    def get_specification(self):
        return self._spec


def test_layout_of_shared_separate_and_non_recurrent_models():
    rnn = {"rnn": {"sequence_length": 3, "sizes": [(2, 4, 8), (2, 4, 8)]}}  # an LSTM: two states
    policy = _Model(rnn)
    shared = RNNLayout.from_models(policy, policy)
    assert shared.shared and shared.memory_names == ["rnn_policy_0", "rnn_policy_1"]
    assert shared.memory_tensors() == [("rnn_policy_0", (2, 8)), ("rnn_policy_1", (2, 8))]
    assert shared.split_batch(["h", "c"]) == {"policy": ["h", "c"], "value": ["h", "c"]}
    separate = RNNLayout.from_models(policy, _Model({"rnn": {"sizes": [(1, 4, 5)]}}))
    assert separate.sequence_length == 3 and separate.memory_names == ["rnn_policy_0", "rnn_policy_1", "rnn_value_0"]
    assert separate.split_batch(["h", "c", "v"]) == {"policy": ["h", "c"], "value": ["v"]}
    plain_value = RNNLayout.from_models(policy, _Model({}))
    assert plain_value.split_batch(["h", "c"]) == {"policy": ["h", "c"], "value": []}
    assert RNNLayout.from_models(_Model({}), _Model({})) is None
    with pytest.raises(InvalidConfigValueError, match="sequence_length"):
        RNNLayout.from_models(_Model({"rnn": {"sequence_length": 0, "sizes": [(1, 4, 5)]}}), None)


def _train_jax(array_backend, directory):
    import jax

    from skrl import config
    from skrl.resources.preprocessors.jax import RunningStandardScaler

    previous = config.jax.backend
    config.jax.backend = array_backend
    try:
        set_seed(3)
        env = wrapped_random_env("jax", num_envs=2)
        cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "random_timesteps": 2,
               "state_preprocessor": RunningStandardScaler, "state_preprocessor_kwargs": {"size": env.observation_space},
               "value_preprocessor": RunningStandardScaler, "value_preprocessor_kwargs": {"size": 1},
               "experiment": {"directory": str(directory), **NO_FILES}}
        agent = make_agent("jax", "PPO_RNN", env, gru_models("jax", env, sequence_length=2), cfg)
        trainer("jax", env, agent, timesteps=14).train()  # 3 updates, then 2 steps into the next rollout
        memory = {name: np.asarray(agent.memory.get_tensor_by_name(name)) for name in agent.memory.get_tensor_names()}
        return jax.device_get(agent.policy.state_dict.params), memory
    finally:
        config.jax.backend = previous


def test_jax_array_backends_train_alike(tmp_path):
    """Host arrays ("numpy") and device arrays written in place ("jax"), with preprocessors and random actions."""
    import jax

    params, memory = _train_jax("numpy", tmp_path / "numpy")
    jax_params, jax_memory = _train_jax("jax", tmp_path / "jax")
    assert memory.keys() == jax_memory.keys() and {"rnn_policy_0", "rnn_value_0"} <= memory.keys()
    for name, array in memory.items():
        np.testing.assert_allclose(jax_memory[name], array, rtol=1e-5, atol=1e-6, err_msg=name)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(jax_params)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
