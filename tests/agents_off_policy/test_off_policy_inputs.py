"""Off-policy agents over their config space (skrl-api-agents.md section 12): train, tags, save -> load -> same actions.

Each example draws a configuration, trains 50 steps on a random-reward env, then checks that the TensorBoard
tags are exactly those of reference 2.5 for that configuration, and that a fresh agent loading the saved
checkpoint acts like the trained one.
"""

import gymnasium
import numpy as np
import pytest
from builders import module, read_events, trainer, wrapped_random_env
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from off_policy_cases import AGENTS, expected_tags, make_agent, make_models, noise, observations, scheduler

unit = st.floats(0, 1, allow_nan=False)


@st.composite
def cases(draw, agent):
    cfg = {
        "batch_size": draw(st.integers(1, 5)), "gradient_steps": draw(st.integers(1, 2)),
        "polyak": draw(unit), "discount_factor": draw(unit),
        "learning_starts": draw(st.integers(0, 5)), "random_timesteps": draw(st.integers(0, 5)),
    }
    if agent in ("DQN", "DDQN"):
        cfg.update({"learning_rate": draw(st.floats(1e-6, 1e-2)), "update_interval": draw(st.integers(1, 3)),
                    "target_update_interval": draw(st.integers(1, 5)),
                    "exploration": {"initial_epsilon": draw(unit), "final_epsilon": draw(unit),
                                    "timesteps": draw(st.sampled_from([None, 0, 10, 50]))}})
    else:
        cfg.update({"actor_learning_rate": draw(st.floats(1e-6, 1e-2)), "critic_learning_rate": draw(st.floats(1e-6, 1e-2)),
                    "grad_norm_clip": draw(st.sampled_from([0, 0.5]))})
    if agent in ("DDPG", "TD3"):
        cfg["exploration"] = {"initial_scale": draw(unit), "final_scale": draw(unit),
                              "timesteps": draw(st.sampled_from([None, 1, 20, 50]))}
    if agent == "TD3":
        cfg.update({"policy_delay": draw(st.integers(1, 3)), "smooth_regularization_clip": draw(unit)})
    if agent == "SAC":
        cfg.update({"learn_entropy": draw(st.booleans()), "initial_entropy_value": draw(st.floats(0.01, 1)),
                    "target_entropy": draw(st.sampled_from([None, -1.0, 0.5]))})
    return {
        "cfg": cfg, "num_envs": draw(st.integers(1, 3)),
        "scheduler": draw(st.sampled_from([None, "kl", "constant"])), "scheduler_value": draw(st.floats(0.1, 1)),
        "preprocessor": draw(st.booleans()), "shaper": draw(st.booleans()), "mixed_precision": draw(st.booleans()),
        "noise": draw(st.sampled_from([None, "gaussian", "ou"])), "smooth": draw(st.sampled_from([None, "gaussian", "ou"])),
    }


def _config(backend, agent, case, env, directory):
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in case["cfg"].items()}
    scheduler_class, scheduler_kwargs = scheduler(backend, case["scheduler"], case["scheduler_value"])
    cfg.update({
        "learning_rate_scheduler": scheduler_class, "learning_rate_scheduler_kwargs": scheduler_kwargs,
        "state_preprocessor": module("resources.preprocessors", backend).RunningStandardScaler
        if case["preprocessor"] else None,
        "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
        "rewards_shaper": (lambda rewards, *args, **kwargs: 0.5 * rewards) if case["shaper"] else None,
        "experiment": {"directory": directory, "write_interval": 25, "checkpoint_interval": 0},
    })
    if backend == "torch":
        cfg["mixed_precision"] = case["mixed_precision"]
    if agent in ("DDPG", "TD3"):
        cfg["exploration"]["noise"] = noise(backend, case["noise"], env.device)
    if agent == "TD3":
        cfg["smooth_regularization_noise"] = noise(backend, case["smooth"], env.device)
    return cfg


_MODELS = {}


def _models(backend, agent, env, which):
    """Models built once per backend, agent and use (JAX builds and compiles them slowly); examples reuse them."""
    key = (backend, agent, which)
    if key not in _MODELS:
        _MODELS[key] = make_models(backend, agent, env.observation_space, env.action_space, env.device)
    return _MODELS[key]


def _to_numpy(x):
    return x.detach().float().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)  # autocast gives bfloat16


def _deterministic_outputs(agent, obs):
    _, _, outputs = agent.act(obs, 10**6, 10**6)
    keys = ["mean_actions"] + (["q_values"] if "q_values" in outputs else [])
    return {key: _to_numpy(outputs[key]) for key in keys}


@pytest.mark.parametrize("agent_name", AGENTS)
def test_training_tags_and_save_load(backend, agent_name, tmp_path_factory):
    @settings(max_examples=3, deadline=None, phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=cases(agent_name))
    def run(case):
        directory = str(tmp_path_factory.mktemp("run"))
        action_space = gymnasium.spaces.Discrete(3) if agent_name in ("DQN", "DDQN") else None
        env = wrapped_random_env(backend, case["num_envs"], action_space)
        cfg = _config(backend, agent_name, case, env, directory)
        agent = make_agent(backend, agent_name, env, cfg, models=_models(backend, agent_name, env, "trained"))
        trainer(backend, env, agent, timesteps=50).train()

        written = set(read_events(agent.experiment_dir))
        assert written == expected_tags(agent_name, cfg), written ^ expected_tags(agent_name, cfg)

        path = str(tmp_path_factory.mktemp("saved") / ("agent.pt" if backend == "torch" else "agent"))
        agent.save(path)
        fresh = make_agent(backend, agent_name, env, {**cfg, "experiment": {"directory": directory, "write_interval": 0,
                                                                           "checkpoint_interval": 0}},
                           models=_models(backend, agent_name, env, "fresh"))
        fresh.init(trainer_cfg={"timesteps": 0})
        fresh.load(path)
        obs = observations(backend, env)
        expected, loaded = _deterministic_outputs(agent, obs), _deterministic_outputs(fresh, obs)
        for key in expected:
            np.testing.assert_array_equal(loaded[key], expected[key], err_msg=key)

    run()
