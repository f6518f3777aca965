"""The PPO inputs of skrl-api-agents.md section 12 construct, init through a SequentialTrainer and train."""

import gymnasium
import numpy as np
from builders import make_ppo, module, trainer, wrapped_random_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

unit = st.floats(0, 1, allow_nan=False)


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
def ppo_cases(draw):
    rollouts = draw(st.integers(1, 5))
    return {
        "num_envs": draw(st.integers(1, 5)),
        "discrete": draw(st.booleans()),
        "scheduler": draw(st.sampled_from([None, "kl", "constant"])),
        "scheduler_value": draw(st.floats(0.1, 1)),
        "state_preprocessor": draw(st.booleans()),
        "value_preprocessor": draw(st.booleans()),
        "shaper": draw(st.booleans()),
        "cfg": {
            "rollouts": rollouts,
            "learning_epochs": draw(st.integers(1, 5)),
            "mini_batches": draw(st.integers(1, 5)),
            "discount_factor": draw(unit), "lambda": draw(unit),
            "ratio_clip": draw(unit), "value_clip": draw(unit),
            "clip_predicted_values": draw(st.booleans()),
            "entropy_loss_scale": draw(unit), "value_loss_scale": draw(unit),
            "kl_threshold": draw(unit),
            "learning_rate": draw(st.floats(1e-10, 1)),
            "time_limit_bootstrap": draw(st.booleans()),
            "mixed_precision": draw(st.booleans()),
        },
    }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=ppo_cases())
def test_ppo_accepts_section_12_inputs(backend, tmp_path, case):
    action_space = gymnasium.spaces.Discrete(3) if case["discrete"] else gymnasium.spaces.Box(-1, 1, (3,), np.float32)
    env = wrapped_random_env(backend, case["num_envs"], action_space)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    scheduler, scheduler_kwargs = _scheduler(backend, case["scheduler"], case["scheduler_value"])
    cfg = dict(case["cfg"])
    if backend == "jax":
        cfg.pop("mixed_precision")
    cfg.update({
        "learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": scheduler_kwargs,
        "state_preprocessor": scaler if case["state_preprocessor"] else None,
        "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
        "value_preprocessor": scaler if case["value_preprocessor"] else None,
        "value_preprocessor_kwargs": {"size": 1, "device": env.device},
        "rewards_shaper": (lambda rewards, *args, **kwargs: 0.5 * rewards) if case["shaper"] else None,
        "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0},
    })
    agent = make_ppo(backend, env, cfg, memory_size=cfg["rollouts"])
    trainer(backend, env, agent, timesteps=5 * cfg["rollouts"]).train()
    assert agent._rollout == 5 * cfg["rollouts"]
