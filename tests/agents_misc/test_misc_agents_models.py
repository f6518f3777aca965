"""Models and checkpoints of TRPO, CEM, Q-learning and SARSA: checkpoint modules of reference 3.1, ``TabularMixin``
state, files in the skrl 1.4.3 key layout, and the errors for models an agent cannot use."""

import pickle

import gymnasium
import numpy as np
import pytest
from builders import module, to_numpy, wrapped_random_env
from misc_agents import (
    AGENTS,
    CHECKPOINT_MODULES,
    make_agent,
    observations,
    stochastic_policy,
    toy_text_env,
    value_model,
)
from tabular_models import epsilon_greedy_policy

from skrl.common.errors import UnknownConfigKeyError

OFF = {"write_interval": 0, "checkpoint_interval": 0}


def _env(backend, name):
    if name in ("q_learning", "sarsa"):
        return toy_text_env(backend, "FrozenLake-v1", num_envs=2, is_slippery=False)
    return wrapped_random_env(backend, 2, gymnasium.spaces.Discrete(3))


def _with_preprocessors(backend, name, env, tmp_path):
    cfg = {"experiment": {"directory": str(tmp_path), **OFF}}
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    if name in ("trpo", "cem"):
        cfg.update({"state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space}})
    if name == "trpo":
        cfg.update({"value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1}})
    return cfg


@pytest.mark.parametrize("name", AGENTS)
def test_checkpoint_modules_follow_reference_3_1(backend, name, tmp_path):
    env = _env(backend, name)
    agent = make_agent(backend, name, env, _with_preprocessors(backend, name, env, tmp_path))
    agent.init(trainer_cfg={"timesteps": 0})
    assert list(agent.checkpoint_modules) == CHECKPOINT_MODULES[name]
    path = str(tmp_path / ("agent.pt" if backend == "torch" else "agent"))
    agent.save(path)
    saved = [key for key in agent._read_state(path) if key != "agent_state"]
    if backend == "torch":  # a dict in registration order; orbax directories do not keep an order
        assert saved == CHECKPOINT_MODULES[name]
    assert sorted(saved) == sorted(CHECKPOINT_MODULES[name])


def _tabular_model(backend, num_envs=2):
    space = gymnasium.spaces.Discrete(4)
    return epsilon_greedy_policy(backend, gymnasium.spaces.Discrete(6), space, "cpu", num_envs=num_envs, epsilon=0.0)


def _array(backend, x):
    if backend == "torch":
        import torch

        return torch.as_tensor(x)
    import jax.numpy as jnp

    return jnp.asarray(x)


def test_tabular_model_state_save_and_load(backend, tmp_path):
    model, other = _tabular_model(backend), _tabular_model(backend)
    assert repr(model).splitlines() == [f"{type(model).__name__}(", "  (q_table): Tensor(shape=[2, 6, 4])", ")"]
    table = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    if backend == "torch":
        model.load_state_dict({"q_table": _array(backend, table)})
        assert set(model.state_dict()) == {"q_table"}
    else:
        model.state_dict = {"q_table": table}
        assert set(model.state_dict.params) == {"q_table"}
    np.testing.assert_array_equal(to_numpy(model.table()), table)
    path = str(tmp_path / ("model.pt" if backend == "torch" else "model"))
    model.save(path)
    other.load(path)
    np.testing.assert_array_equal(to_numpy(other.table()), table)
    greedy = to_numpy(other.act({"states": _array(backend, np.array([[0], [5]]))}, role="policy")[0])
    np.testing.assert_array_equal(greedy.reshape(-1), [3, 3])


def test_tabular_model_rejects_other_tables(backend):
    model = _tabular_model(backend)
    load = model.load_state_dict if backend == "torch" else (lambda state: setattr(model, "state_dict", state))
    with pytest.raises(ValueError, match=r"Tensor shape \(\(2, 6, 5\) vs \(2, 6, 4\)\) or dtype"):
        load({"q_table": _array(backend, np.zeros((2, 6, 5), np.float32))})
    with pytest.raises(ValueError, match="v_table is not a tensor of Policy"):
        load({"v_table": _array(backend, np.zeros((2, 6), np.float32))})


def test_tabular_mixin_needs_a_q_table_and_valid_num_envs(backend):
    models = module("models", backend)
    space = gymnasium.spaces.Discrete(3)

    class NoTable(models.TabularMixin, models.Model):
        def __init__(self, num_envs=1, **kwargs):
            models.Model.__init__(self, space, space, "cpu", **kwargs)
            models.TabularMixin.__init__(self, num_envs)

    with pytest.raises(AttributeError, match="no `q_table`"):
        NoTable().table()
    with pytest.raises(ValueError, match="Invalid `num_envs`: expected an int >= 1. Received: num_envs=0"):
        NoTable(num_envs=0)


def test_tabular_checkpoint_in_skrl_143_layout_loads(tmp_path):
    """torch skrl 1.4.3 stored a tabular agent as ``{"policy": {"q_table": tensor}}``."""
    import torch

    env = toy_text_env("torch", "FrozenLake-v1", num_envs=2, is_slippery=False)
    agent = make_agent("torch", "q_learning", env, {"experiment": {"directory": str(tmp_path), **OFF}}, epsilon=0.0)
    agent.init(trainer_cfg={"timesteps": 0})
    table = torch.rand(2, 16, 4)
    torch.save({"policy": {"q_table": table}}, tmp_path / "legacy.pt")
    agent.load(str(tmp_path / "legacy.pt"))
    np.testing.assert_array_equal(agent.policy.table().numpy(), table.numpy())


def test_cem_checkpoint_in_skrl_143_layout_loads(backend, tmp_path):
    """skrl 1.4.3 CEM files: ``{"policy", "optimizer"}`` (torch state dicts; JAX pickled flax bytes)."""
    env = wrapped_random_env(backend, 2, gymnasium.spaces.Discrete(3))
    source = make_agent(backend, "cem", env, {"experiment": {"directory": str(tmp_path), **OFF}})
    target = make_agent(backend, "cem", env, {"experiment": {"directory": str(tmp_path), **OFF}})
    target.init(trainer_cfg={"timesteps": 0})
    if backend == "torch":
        import torch

        path = tmp_path / "legacy.pt"
        torch.save({"policy": source.policy.state_dict(), "optimizer": source.optimizer.state_dict()}, path)
    else:
        from flax import serialization

        path = tmp_path / "legacy.pickle"
        states = {"policy": source.policy.state_dict.params, "optimizer": source.optimizer}
        with open(path, "wb") as file:
            pickle.dump({k: serialization.to_bytes(v) for k, v in states.items()}, file, protocol=4)
    target.load(str(path))
    obs = observations(backend, env)
    expected = to_numpy(source.act(obs, 10**6, 10**6)[2]["net_output"])
    np.testing.assert_array_equal(to_numpy(target.act(obs, 10**6, 10**6)[2]["net_output"]), expected)


def test_trpo_rejects_a_shared_model_and_a_deterministic_policy(backend):
    env = wrapped_random_env(backend, 2)
    value = value_model(backend, env.observation_space, env.action_space, env.device)
    with pytest.raises(ValueError, match="separate `policy` and `value` models"):
        make_agent(backend, "trpo", env, models={"policy": value, "value": value})
    with pytest.raises(ValueError, match="TRPO needs a stochastic policy"):
        make_agent(backend, "trpo", env, models={"policy": value_model(backend, env.observation_space,
                                                                      env.action_space, env.device), "value": value})


def test_cem_memory_must_hold_a_rollout(backend, tmp_path):
    env = wrapped_random_env(backend, 2, gymnasium.spaces.Discrete(3))
    agent = make_agent(backend, "cem", env, {"rollouts": 8, "experiment": {"directory": str(tmp_path), **OFF}},
                       memory_size=4)
    with pytest.raises(ValueError, match="memory_size=4, rollouts=8"):
        agent.init(trainer_cfg={"timesteps": 0})


@pytest.mark.parametrize("name, typo, suggestion", [("trpo", "max_kl_divergance", "max_kl_divergence"),
                                                    ("cem", "percentil", "percentile"),
                                                    ("sarsa", "learning_rat", "learning_rate")])
def test_mistyped_keys_suggest_the_right_one(backend, name, typo, suggestion):
    env = _env(backend, name)
    with pytest.raises(UnknownConfigKeyError, match=f"did you mean '{suggestion}'"):
        make_agent(backend, name, env, {typo: 1})


def test_gaussian_cem_fits_continuous_actions(backend, tmp_path):
    """CEM's maximum-likelihood step works for any stochastic policy, e.g. a Gaussian one on a Box space."""
    env = wrapped_random_env(backend, 2)
    policy = stochastic_policy(backend, env.observation_space, env.action_space, env.device)
    agent = make_agent(backend, "cem", env, {"rollouts": 20, "experiment": {"directory": str(tmp_path), **OFF}},
                       models={"policy": policy})
    from builders import trainer

    before = to_numpy(agent.act(observations(backend, env), 10**6, 10**6)[2]["mean_actions"])
    trainer(backend, env, agent, 40).train()
    after = to_numpy(agent.act(observations(backend, env), 10**6, 10**6)[2]["mean_actions"])
    assert np.all(np.isfinite(after)) and not np.allclose(before, after)
