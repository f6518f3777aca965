"""Off-policy agents' data layer on both backends: defaults, checkpoint modules, skrl 1.4.3 layouts, errors, eval."""

import pickle

import gymnasium
import numpy as np
import pytest
from builders import module, to_numpy, trainer, wrapped_random_env
from off_policy_cases import (
    AGENTS,
    action_space,
    default_config,
    expected_modules,
    is_discrete,
    make_agent,
    make_models,
    noise,
    observations,
)

from skrl.common.errors import InvalidConfigValueError, UnknownConfigKeyError

OFF = {"experiment": {"write_interval": 0, "checkpoint_interval": 0}}
COMMON = {"gradient_steps": 1, "batch_size": 64, "discount_factor": 0.99, "polyak": 0.005,
          "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {}, "state_preprocessor": None,
          "state_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0, "rewards_shaper": None,
          "mixed_precision": False}
ACTOR_CRITIC = {"actor_learning_rate": 1e-3, "critic_learning_rate": 1e-3, "grad_norm_clip": 0}
DDPG = {**COMMON, **ACTOR_CRITIC,
        "exploration": {"noise": None, "initial_scale": 1.0, "final_scale": 1e-3, "timesteps": None}}
DEFAULTS = {  # reference section 11
    "DDPG": DDPG,
    "TD3": {**DDPG, "policy_delay": 2, "smooth_regularization_noise": None, "smooth_regularization_clip": 0.5},
    "SAC": {**COMMON, **ACTOR_CRITIC, "learn_entropy": True, "entropy_learning_rate": 1e-3,
            "initial_entropy_value": 0.2, "target_entropy": None},
    "DQN": {**COMMON, "learning_rate": 1e-3, "update_interval": 1, "target_update_interval": 10,
            "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.05, "timesteps": 1000}},
}
DEFAULTS["DDQN"] = DEFAULTS["DQN"]


def _env(backend, agent, num_envs=2):
    return wrapped_random_env(backend, num_envs, action_space(agent))


def _cfg(tmp_path, **cfg):
    return {"experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}, **cfg}


@pytest.mark.parametrize("agent", AGENTS)
def test_default_configs_are_the_reference_ones_and_shared(agent):
    torch_cfg, jax_cfg = default_config("torch", agent), default_config("jax", agent)
    assert torch_cfg is jax_cfg
    assert {k: v for k, v in torch_cfg.items() if k != "experiment"} == DEFAULTS[agent]
    assert torch_cfg["experiment"]["write_interval"] == "auto"


@pytest.mark.parametrize("agent", AGENTS)
def test_a_config_never_changes_the_module_defaults(backend, agent, tmp_path):
    before = repr(default_config(backend, agent))
    env = _env(backend, agent)
    cfg = _cfg(tmp_path, batch_size=7, random_timesteps=3)
    cfg["exploration"] = {"timesteps": 5} if agent in ("DDPG", "TD3", "DQN", "DDQN") else None
    if cfg["exploration"] is None:
        del cfg["exploration"]
    first = make_agent(backend, agent, env, cfg)
    second = make_agent(backend, agent, env, _cfg(tmp_path))
    assert repr(default_config(backend, agent)) == before
    assert first.cfg["batch_size"] == 7 and second.cfg["batch_size"] == 64
    if "exploration" in cfg:
        assert second.cfg["exploration"]["timesteps"] == default_config(backend, agent)["exploration"]["timesteps"]


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("preprocessor", [False, True])
def test_checkpoint_modules_follow_reference_3_1(backend, agent, preprocessor, tmp_path):
    env = _env(backend, agent)
    cfg = _cfg(tmp_path)
    if preprocessor:
        cfg.update(state_preprocessor=module("resources.preprocessors", backend).RunningStandardScaler,
                   state_preprocessor_kwargs={"size": env.observation_space, "device": env.device})
    assert list(make_agent(backend, agent, env, cfg).checkpoint_modules) == expected_modules(backend, agent, cfg)


def test_sac_without_entropy_learning_has_no_entropy_optimizer(backend, tmp_path):
    env = _env(backend, "SAC")
    cfg = _cfg(tmp_path, learn_entropy=False)
    assert list(make_agent(backend, "SAC", env, cfg).checkpoint_modules) == expected_modules(backend, "SAC", cfg)


def _legacy_file(backend, agent, path):
    """The agent's modules written as skrl 1.4.3's ``Agent.save`` wrote them (no resume state)."""
    if backend == "torch":
        import torch

        torch.save({name: m.state_dict() for name, m in agent.checkpoint_modules.items()}, path)
        return path
    from flax import serialization

    states = {name: serialization.to_bytes(m.state_dict.params if hasattr(m, "state_dict") else m)
              for name, m in agent.checkpoint_modules.items()}
    with open(path, "wb") as file:
        pickle.dump(states, file, protocol=4)
    return path


def _outputs(agent, obs):
    return to_numpy(agent.act(obs, 10**6, 10**6)[2]["mean_actions"])


def _optimizer_leaves(backend, agent, name):
    optimizer = agent.checkpoint_modules[name]
    if backend == "torch":
        return [v.numpy() for state in optimizer.state_dict()["state"].values() for v in state.values()]
    import jax

    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(optimizer.state)]


@pytest.mark.parametrize("agent", AGENTS)
def test_skrl_143_layout_loads_models_and_optimizers(backend, agent, tmp_path):
    env = _env(backend, agent)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    cfg = _cfg(tmp_path, learning_starts=0, batch_size=8, state_preprocessor=scaler,
               state_preprocessor_kwargs={"size": env.observation_space, "device": env.device})
    trained = make_agent(backend, agent, env, cfg)
    trainer(backend, env, trained, timesteps=30).train()
    path = _legacy_file(backend, trained, str(tmp_path / ("legacy.pt" if backend == "torch" else "legacy.pickle")))
    fresh = make_agent(backend, agent, env, cfg)
    fresh.init(trainer_cfg={"timesteps": 0})
    fresh.load(path)
    obs = observations(backend, env)
    np.testing.assert_array_equal(_outputs(fresh, obs), _outputs(trained, obs))
    for name in trained.checkpoint_modules:
        if name.endswith("optimizer"):
            for live, saved in zip(_optimizer_leaves(backend, fresh, name), _optimizer_leaves(backend, trained, name)):
                np.testing.assert_array_equal(live, saved, err_msg=name)


@pytest.mark.parametrize("agent, cfg, match", [
    ("DDPG", {"batch_size": 0}, r"`batch_size`: expected an int >= 1. Received: batch_size=0"),
    ("TD3", {"policy_delay": 0}, r"`policy_delay`: expected an int >= 1"),
    ("SAC", {"polyak": 1.5}, r"`polyak`: expected a number in \[0.0, 1.0\]. Received: polyak=1.5"),
    ("SAC", {"actor_learning_rate": 0}, r"`actor_learning_rate`: expected a number > 0"),
    ("DQN", {"exploration": {"final_epsilon": 2}}, r"`exploration.final_epsilon`: expected a number in \[0.0, 1.0\]"),
    ("DDQN", {"target_update_interval": -1}, r"`target_update_interval`: expected an int >= 1"),
])
def test_bad_values_name_the_key_and_the_allowed_range(backend, tmp_path, agent, cfg, match):
    with pytest.raises(InvalidConfigValueError, match=match):
        make_agent(backend, agent, _env(backend, agent), _cfg(tmp_path, **cfg))


def test_mistyped_keys_suggest_the_right_one(backend, tmp_path):
    with pytest.raises(UnknownConfigKeyError, match="'gradient_step'.*did you mean 'gradient_steps'"):
        make_agent(backend, "SAC", _env(backend, "SAC"), _cfg(tmp_path, gradient_step=2))
    with pytest.raises(UnknownConfigKeyError, match="did you mean 'initial_scale'"):
        make_agent(backend, "TD3", _env(backend, "TD3"), _cfg(tmp_path, exploration={"initial_scal": 2}))


@pytest.mark.parametrize("agent, space, match", [
    ("DQN", gymnasium.spaces.Box(-1, 1, (3,)), "expected a gymnasium Discrete space"),
    ("DDPG", gymnasium.spaces.Discrete(3), "expected a gymnasium Box"),
])
def test_unsuitable_action_spaces_are_refused(backend, tmp_path, agent, space, match):
    env = wrapped_random_env(backend, 2, action_space(agent))
    models = make_models(backend, agent, env.observation_space, env.action_space, env.device)
    cls = type(make_agent(backend, agent, env, _cfg(tmp_path), models=models))
    with pytest.raises(ValueError, match=match):
        cls(models=models, observation_space=env.observation_space, action_space=space, device=env.device,
            cfg=_cfg(tmp_path))


def test_unusable_noises_are_refused(backend, tmp_path):
    class SampleOnly(module("resources.noises", backend).Noise):
        def sample(self, size):
            return np.zeros(size, np.float32)

    env = _env(backend, "TD3")
    refused = ("smooth_regularization_noise", SampleOnly()) if backend == "jax" else ("exploration", {"noise": "x"})
    with pytest.raises(TypeError, match="Invalid `(smooth_regularization_noise|exploration.noise)`"):
        make_agent(backend, "TD3", env, _cfg(tmp_path, **dict([refused])))


@pytest.mark.parametrize("agent", AGENTS)
def test_deterministic_evaluation_runs_and_stores_nothing(backend, agent, tmp_path):
    env = _env(backend, agent)
    cfg = _cfg(tmp_path)
    if agent in ("DDPG", "TD3"):
        cfg["exploration"] = {"noise": noise(backend, "gaussian", env.device)}
    evaluated = make_agent(backend, agent, env, cfg)
    trainer(backend, env, evaluated, timesteps=10, stochastic_evaluation=False).eval()
    assert len(evaluated.memory) == 0


def test_random_timesteps_act_uniformly_within_the_action_space(backend, tmp_path):
    for agent in ("SAC", "DQN"):
        env = _env(backend, agent, num_envs=3)
        actions = to_numpy(make_agent(backend, agent, env, _cfg(tmp_path, random_timesteps=5)).act(
            observations(backend, env, n=3), timestep=0, timesteps=10)[0])
        assert actions.shape == ((3, 1) if is_discrete(agent) else (3, 3))
        assert actions.min() >= (0 if is_discrete(agent) else -1) and actions.max() <= (2 if is_discrete(agent) else 1)


@pytest.mark.parametrize("agent", AGENTS)
def test_jax_array_backend_keeps_everything_on_the_device(agent, tmp_path):
    """With ``config.jax.backend = "jax"`` (skrl 1.4.3 DQN/DDQN raised there) memory, actions and losses are jax.Arrays."""
    import jax

    from skrl import config

    previous = config.jax.backend
    config.jax.backend = "jax"
    try:
        env = _env("jax", agent)
        cfg = _cfg(tmp_path, batch_size=8, random_timesteps=2,
                   state_preprocessor=module("resources.preprocessors", "jax").RunningStandardScaler,
                   state_preprocessor_kwargs={"size": env.observation_space})
        if agent in ("DDPG", "TD3"):
            cfg["exploration"] = {"noise": noise("jax", "ou")}
        trained = make_agent("jax", agent, env, cfg)
        trainer("jax", env, trained, timesteps=20).train()
        assert isinstance(trained.memory.get_tensor_by_name("actions"), jax.Array)
        assert isinstance(trained.act(observations("jax", env), 10**6, 10**6)[0], jax.Array)
    finally:
        config.jax.backend = previous
