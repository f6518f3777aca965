"""SAC_RNN, TD3_RNN and DDPG_RNN on both backends (skrl-api-agents.md section 10): the policy's states in the memory
and in every model call of the update (critics and targets included), save/load, the non-recurrent case (exactly
the base agent), learning a memory task."""

import os

import numpy as np
import pytest
from builders import module, to_numpy, trainer, wrapped_random_env
from rnn_cases import HIDDEN, gru_off_policy_models, make_agent, wrapped_cue_env
from test_rnn_agents import _record_update_inputs

from skrl.utils import set_seed

NO_FILES = {"write_interval": 0, "checkpoint_interval": 0}
AGENTS = ("SAC_RNN", "TD3_RNN", "DDPG_RNN")


def _base(name):
    return name.split("_")[0]


def _act(agent, states, rnn_state):
    agent.set_running_mode("eval")
    agent._rnn_initial_states = {"policy": [rnn_state], "value": []}
    _, _, outputs = agent.act(states, timestep=10**6, timesteps=10**6)
    return to_numpy(outputs["mean_actions"]), to_numpy(outputs["rnn"][0])


@pytest.mark.parametrize("name", AGENTS)
def test_off_policy_rnn_trains_on_sequences_stores_the_policy_states_and_saves(backend, tmp_path, name):
    set_seed(0)
    env = wrapped_random_env(backend, num_envs=3)
    models = gru_off_policy_models(backend, _base(name), env, sequence_length=4)
    seen = {role: [] for role in models}
    for role, model in models.items():
        _record_update_inputs(model, seen[role])
    cfg = {"batch_size": 5, "learning_starts": 8, "random_timesteps": 4,
           "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, name, env, models, cfg, memory_size=32)
    trainer(backend, env, agent, timesteps=16).train()
    assert os.path.basename(agent.experiment_dir).endswith(f"_{name}")
    assert agent._rnn.sequence_length == 4 and agent._gradient_step_count == 8

    # only the policy's states are stored: each row holds the states before its step (zero after a finished
    # episode, and only then, or at the start; random_timesteps too: the policy runs for its states)
    memory = agent.memory
    assert [n for n in memory.get_tensor_names() if n.startswith("rnn_")] == ["rnn_policy_0"]
    states = to_numpy(memory.get_tensor_by_name("rnn_policy_0"))
    assert states.shape == (32, 3, 1, HIDDEN)
    dones = (to_numpy(memory.get_tensor_by_name("terminated")) | to_numpy(memory.get_tensor_by_name("truncated")))
    dones = dones[:16, :, 0]
    assert dones[:-1].any(), "the random env should finish some episodes in 16 steps of 3 envs"
    zero = np.all(states[:16] == 0, axis=(-2, -1))
    assert zero[0].all()
    np.testing.assert_array_equal(zero[1:], dones[:-1])
    # the update feeds every model (policy, target policy, critics, target critics) the policy's stored states of
    # batch_size sequences of 4 rows, (num_layers, rows, hidden), and the dones, (rows, 1)
    rows = 5 * 4
    for role in models:
        assert seen[role] and set(seen[role]) == {(((1, rows, HIDDEN),), (rows, 1))}, role

    # save, then load into a fresh agent: the same actions and next states
    path = os.path.join(str(tmp_path), "agent.pt" if backend == "torch" else "agent")
    agent.save(path)
    set_seed(1)
    fresh = make_agent(backend, name, env, gru_off_policy_models(backend, _base(name), env, sequence_length=4), cfg,
                       memory_size=32)
    fresh.load(path)
    rng = np.random.default_rng(0)
    observations = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    rnn_state = rng.normal(size=(1, 3, HIDDEN)).astype(np.float32)
    if backend == "torch":
        import torch

        observations, rnn_state = torch.as_tensor(observations), torch.as_tensor(rnn_state)
    expected, actual = _act(agent, observations, rnn_state), _act(fresh, observations, rnn_state)
    for a, b in zip(expected, actual):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(expected[1], to_numpy(rnn_state))  # the states did go through the policy


def _plain_models(backend, name, env):
    instantiators = module("utils.model_instantiators", backend)
    spaces = (env.observation_space, env.action_space, env.device)
    net = [{"name": "net", "input": "STATES", "layers": [16], "activations": "tanh"}]
    critic_net = [{"name": "net", "input": "concatenate([STATES, ACTIONS])", "layers": [16], "activations": "tanh"}]
    actor = (instantiators.gaussian_model if name == "SAC" else instantiators.deterministic_model)
    models = {"policy": actor(*spaces, network=net, output="tanh(ACTIONS)")}
    critics = ("critic_1", "critic_2", "target_critic_1", "target_critic_2") if name == "SAC" else ("critic",
                                                                                                       "target_critic")
    if name != "SAC":
        models["target_policy"] = actor(*spaces, network=net, output="tanh(ACTIONS)")
    for role in critics:
        models[role] = instantiators.deterministic_model(*spaces, network=critic_net, output="ONE")
    for role, model in models.items():
        model.init_state_dict(role)
    return models


def _params(agent, backend):
    if backend == "torch":
        return {f"{role}.{k}": to_numpy(v) for role, model in agent.models.items() for k, v in model.state_dict().items()}
    import jax

    leaves = jax.tree_util.tree_leaves_with_path({role: m.state_dict.params for role, m in agent.models.items()})
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


def test_models_without_rnn_specification_train_exactly_as_the_base_agent(backend, tmp_path):
    base = "SAC" if backend == "torch" else "DDPG"  # one agent per backend
    cfg = {"batch_size": 8, "learning_starts": 4, "random_timesteps": 2, "gradient_steps": 2,
           "experiment": {"directory": str(tmp_path), **NO_FILES}}
    params = {}
    for name in (base, f"{base}_RNN"):
        set_seed(7)
        env = wrapped_random_env(backend, num_envs=2)
        agent = make_agent(backend, name, env, _plain_models(backend, base, env), dict(cfg), memory_size=16)
        trainer(backend, env, agent, timesteps=12).train()
        params[name] = _params(agent, backend)
        assert getattr(agent, "_rnn", None) is None
        assert not any(n.startswith("rnn_") for n in agent.memory.get_tensor_names())
    assert params[base].keys() == params[f"{base}_RNN"].keys()
    for key, value in params[base].items():
        np.testing.assert_array_equal(value, params[f"{base}_RNN"][key], err_msg=key)


def test_ddpg_rnn_learns_a_task_that_needs_memory(backend, tmp_path):
    """The cue of step 0 is asked for at step 3 (reward ``cue * action``): any feed-forward policy gets 0 per episode.
    Sequences of 8 steps (two episodes) let the models carry the cue from the stored states or from the sequence."""
    set_seed(0)
    env = wrapped_cue_env(backend, num_envs=16, continuous=True)
    noise = module("resources.noises", backend).GaussianNoise(0, 0.3, device=env.device)
    cfg = {"batch_size": 16, "learning_starts": 32, "discount_factor": 0.9, "polyak": 0.05,
           "actor_learning_rate": 3e-3, "critic_learning_rate": 3e-3,
           "exploration": {"noise": noise, "initial_scale": 1.0, "final_scale": 0.1},
           "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, "DDPG_RNN", env, gru_off_policy_models(backend, "DDPG", env, 8, hidden=16), cfg,
                       memory_size=256)
    trainer(backend, env, agent, timesteps=250).train()

    agent.set_running_mode("eval")  # greedy: the mean actions, the states zeroed at every episode's end
    observations, _ = env.reset()
    total = 0.0
    for _ in range(32):
        _, _, outputs = agent.act(observations, timestep=250, timesteps=250)
        next_observations, rewards, terminated, truncated, infos = env.step(outputs["mean_actions"])
        agent.record_transition(observations, outputs["mean_actions"], rewards, next_observations, terminated,
                                truncated, infos, 250, 250)
        observations = next_observations
        total += float(to_numpy(rewards).sum())
    assert total / (32 * 16 / 4) > 0.8


def test_updates_wait_for_one_whole_sequence_in_memory(backend, tmp_path):
    """With ``learning_starts`` below the sequence length, the first gradient step comes once every env has stored
    ``sequence_length`` steps (sampling a sequence earlier would fail)."""
    env = wrapped_random_env(backend, num_envs=2)
    models = gru_off_policy_models(backend, "DDPG", env, sequence_length=3)
    cfg = {"batch_size": 2, "learning_starts": 0, "experiment": {"directory": str(tmp_path), **NO_FILES}}
    agent = make_agent(backend, "DDPG_RNN", env, models, cfg, memory_size=16)
    counts = []
    update = agent._update

    def counting(timestep, timesteps):
        counts.append(timestep)
        update(timestep, timesteps)

    agent._update = counting
    trainer(backend, env, agent, timesteps=5).train()
    assert counts == [2, 3, 4]
