"""Every RNN variant on both backends over its base agent's config space (skrl-api-agents.md section 12 ranges,
drawn by hypothesis): a short training with GRU models, exactly the tags of reference 2.5 for the base agent and
the configuration, then save -> load into a fresh agent -> identical actions and returned states."""

import numpy as np
import pytest
from builders import module, read_events, to_numpy, trainer, wrapped_random_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rnn_cases import gru_models, gru_off_policy_models, make_agent

unit = st.floats(0, 1, allow_nan=False)
ON_POLICY = ("PPO_RNN", "A2C_RNN", "RPO_RNN", "TRPO_RNN")
OFF_POLICY = ("DDPG_RNN", "TD3_RNN", "SAC_RNN")
BASE_TAGS = {f"Reward / Instantaneous reward ({s})" for s in ("max", "min", "mean")}
EPISODE_TAGS = {f"{t} ({s})" for t in ("Reward / Total reward", "Episode / Total timesteps") for s in ("max", "min", "mean")}


def _stats(group):
    return {f"{group} ({s})" for s in ("max", "min", "mean")}


def _scheduler(backend, choice, value):
    if choice == "kl":
        return module("resources.schedulers", backend).KLAdaptiveLR, {"kl_threshold": value}
    if choice == "constant":
        if backend == "torch":
            import torch

            return torch.optim.lr_scheduler.ConstantLR, {"factor": value}
        import optax

        return optax.schedules.constant_schedule, {"value": value}
    return None, {}


@st.composite
def on_policy_cases(draw, name):
    """Rollouts of whole sequences, and a number of mini-batches that splits them into whole sequences."""
    num_envs, length = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rollouts = length * draw(st.integers(1, 2))
    sequences = rollouts * num_envs // length
    mini_batches = draw(st.sampled_from([d for d in range(1, min(sequences, 5) + 1) if sequences % d == 0]))
    cfg = {"rollouts": rollouts, "mini_batches": mini_batches, "discount_factor": draw(unit), "lambda": draw(unit),
           "time_limit_bootstrap": draw(st.booleans())}
    if name != "A2C_RNN":
        cfg["learning_epochs"] = draw(st.integers(1, 3))
    if name == "TRPO_RNN":
        cfg.update({"value_learning_rate": draw(st.floats(1e-6, 1e-2)), "damping": draw(st.floats(0.01, 1)),
                    "max_kl_divergence": draw(unit), "conjugate_gradient_steps": draw(st.integers(1, 5)),
                    "max_backtrack_steps": draw(st.integers(1, 5)), "accept_ratio": draw(unit),
                    "step_fraction": draw(unit), "grad_norm_clip": draw(unit)})
    else:
        cfg.update({"learning_rate": draw(st.floats(1e-6, 1e-2)), "grad_norm_clip": draw(unit),
                    "entropy_loss_scale": draw(st.sampled_from([0.0, 0.01])), "mixed_precision": draw(st.booleans())})
        if name != "A2C_RNN":
            cfg.update({"value_loss_scale": draw(unit), "ratio_clip": draw(unit), "value_clip": draw(unit),
                        "clip_predicted_values": draw(st.booleans()), "kl_threshold": draw(st.sampled_from([0, 0.5]))})
    return {"cfg": cfg, "num_envs": num_envs, "sequence_length": length,
            "scheduler": draw(st.sampled_from([None, "kl", "constant"])), "scheduler_value": draw(st.floats(0.1, 1)),
            "state_preprocessor": draw(st.booleans()), "value_preprocessor": draw(st.booleans()),
            "shaper": draw(st.booleans())}


@st.composite
def off_policy_cases(draw, name):
    cfg = {"batch_size": draw(st.integers(1, 4)), "gradient_steps": draw(st.integers(1, 2)), "polyak": draw(unit),
           "discount_factor": draw(unit), "learning_starts": draw(st.integers(0, 5)),
           "random_timesteps": draw(st.integers(0, 5)), "actor_learning_rate": draw(st.floats(1e-6, 1e-2)),
           "critic_learning_rate": draw(st.floats(1e-6, 1e-2)), "grad_norm_clip": draw(st.sampled_from([0, 0.5])),
           "mixed_precision": draw(st.booleans())}
    if name in ("DDPG_RNN", "TD3_RNN"):
        cfg["exploration"] = {"initial_scale": draw(unit), "final_scale": draw(unit),
                              "timesteps": draw(st.sampled_from([None, 1, 20]))}
    if name == "TD3_RNN":
        cfg.update({"policy_delay": draw(st.integers(1, 3)), "smooth_regularization_clip": draw(unit)})
    if name == "SAC_RNN":
        cfg.update({"learn_entropy": draw(st.booleans()), "initial_entropy_value": draw(st.floats(0.01, 1)),
                    "target_entropy": draw(st.sampled_from([None, -1.0]))})
    return {"cfg": cfg, "num_envs": draw(st.integers(1, 3)), "sequence_length": draw(st.integers(1, 3)),
            "scheduler": draw(st.sampled_from([None, "kl", "constant"])), "scheduler_value": draw(st.floats(0.1, 1)),
            "state_preprocessor": draw(st.booleans()), "value_preprocessor": False, "shaper": draw(st.booleans()),
            "noise": draw(st.sampled_from([None, "gaussian", "ou"]))}


def _config(backend, name, case, env, directory):
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in case["cfg"].items()}
    if backend == "jax":
        cfg.pop("mixed_precision", None)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    scheduler, kwargs = _scheduler(backend, case["scheduler"], case["scheduler_value"])
    cfg.update({"learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": kwargs,
                "state_preprocessor": scaler if case["state_preprocessor"] else None,
                "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
                "rewards_shaper": (lambda rewards, *args, **kwargs: 0.5 * rewards) if case["shaper"] else None,
                "experiment": {"directory": directory, "write_interval": 1, "checkpoint_interval": 0}})
    if name in ON_POLICY:
        cfg.update({"value_preprocessor": scaler if case["value_preprocessor"] else None,
                    "value_preprocessor_kwargs": {"size": 1, "device": env.device}})
    if "exploration" in cfg:
        noises = module("resources.noises", backend)
        cfg["exploration"]["noise"] = {None: None, "gaussian": lambda: noises.GaussianNoise(0, 0.1, device=env.device),
                                       "ou": lambda: noises.OrnsteinUhlenbeckNoise(theta=0.1, sigma=0.2, base_scale=1.0,
                                                                                   device=env.device)}[case["noise"]]
        cfg["exploration"]["noise"] = cfg["exploration"]["noise"] and cfg["exploration"]["noise"]()
    return cfg


def _expected_tags(name, cfg):
    """Reference 2.5 for the base agent (the RNN variants write their base agent's tags)."""
    scheduled = bool(cfg.get("learning_rate_scheduler"))
    if name == "TRPO_RNN":
        tags = {"Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation"}
        return tags | ({"Learning / Value learning rate"} if scheduled else set())
    if name in ON_POLICY:
        tags = {"Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation"}
        tags |= {"Loss / Entropy loss"} if cfg["entropy_loss_scale"] else set()
        return tags | ({"Learning / Learning rate"} if scheduled else set())
    tags = {"Loss / Policy loss", "Loss / Critic loss"} | _stats("Q-network / Q1") | _stats("Target / Target")
    if name in ("TD3_RNN", "SAC_RNN"):
        tags |= _stats("Q-network / Q2")
    if name in ("DDPG_RNN", "TD3_RNN") and cfg["exploration"]["noise"] is not None:
        tags |= _stats("Exploration / Exploration noise")
    if name == "SAC_RNN" and cfg["learn_entropy"]:
        tags |= {"Loss / Entropy loss", "Coefficient / Entropy coefficient"}
    return tags | ({"Learning / Policy learning rate", "Learning / Critic learning rate"} if scheduled else set())


def _models(backend, name, env, length):
    if name in ON_POLICY:
        return gru_models(backend, env, sequence_length=length)
    return gru_off_policy_models(backend, name.split("_")[0], env, sequence_length=length)


def _act(agent, states, initial):
    agent._rnn_initial_states = initial
    _, _, outputs = agent.act(states, 10**6, 10**6)
    return tuple(to_numpy(x.float() if hasattr(x, "detach") else x) for x in (outputs["mean_actions"], outputs["rnn"][0]))


@pytest.mark.parametrize("name", ON_POLICY + OFF_POLICY)
def test_rnn_variant_configurations(backend, name, tmp_path_factory):
    strategy = on_policy_cases(name) if name in ON_POLICY else off_policy_cases(name)

    @settings(max_examples=2 if backend == "torch" else 1, deadline=None,  # JAX compiles each example: ~7 s phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=strategy)
    def run(case):
        directory = str(tmp_path_factory.mktemp("run"))
        env = wrapped_random_env(backend, case["num_envs"])
        cfg = _config(backend, name, case, env, directory)
        memory_size = cfg["rollouts"] if name in ON_POLICY else 30
        agent = make_agent(backend, name, env, _models(backend, name, env, case["sequence_length"]), cfg,
                           memory_size=memory_size)
        timesteps = 3 * cfg["rollouts"] if name in ON_POLICY else 25
        trainer(backend, env, agent, timesteps).train()
        written = set(read_events(agent.experiment_dir))
        expected = _expected_tags(name, cfg)
        assert BASE_TAGS <= written
        assert written - BASE_TAGS - EPISODE_TAGS == expected, written ^ (expected | BASE_TAGS | EPISODE_TAGS)

        path = str(tmp_path_factory.mktemp("saved") / ("agent.pt" if backend == "torch" else "agent"))
        agent.save(path)
        fresh_cfg = {**cfg, "experiment": {"directory": directory, "write_interval": 0, "checkpoint_interval": 0}}
        fresh = make_agent(backend, name, env, _models(backend, name, env, case["sequence_length"]), fresh_cfg,
                           memory_size=memory_size)
        fresh.init(trainer_cfg={"timesteps": 0})
        fresh.load(path)
        initial = fresh._rnn_initial_states
        states = env.reset()[0]
        for trained, loaded in zip(_act(agent, states, initial), _act(fresh, states, initial)):
            np.testing.assert_allclose(loaded, trained, rtol=1e-6, atol=1e-6)  # a GRU's kernels may reorder sums

    run()
