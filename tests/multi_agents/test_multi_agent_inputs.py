"""IPPO and MAPPO accept the PPO inputs of skrl-api-agents.md section 12, one value for all agents or one per agent."""

import pytest
from builders import module, trainer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ma_builders import make_multi_agent, wrapped_signal_env

UIDS = ("agent_0", "agent_1")
unit = st.floats(0, 1, allow_nan=False)


def shared_or_per_agent(values):
    """One value for every agent, or a ``{uid: value}`` dict."""
    return st.one_of(values, st.fixed_dictionaries({uid: values for uid in UIDS}))


def _scheduler(backend, choice):
    if choice == "kl":
        return module("resources.schedulers", backend).KLAdaptiveLR, {"kl_threshold": 0.01}
    if choice == "constant":
        if backend == "torch":
            import torch

            return torch.optim.lr_scheduler.ConstantLR, {"factor": 0.5}
        import optax

        return optax.schedules.constant_schedule, {"value": 0.5}
    return None, {}


@st.composite
def multi_agent_cases(draw):
    per_agent = {
        "learning_epochs": st.integers(1, 3), "mini_batches": st.integers(1, 5),
        "discount_factor": unit, "lambda": unit, "ratio_clip": unit, "value_clip": unit,
        "clip_predicted_values": st.booleans(), "entropy_loss_scale": unit, "value_loss_scale": unit,
        "kl_threshold": unit, "learning_rate": st.floats(1e-10, 1), "time_limit_bootstrap": st.booleans(),
        "grad_norm_clip": unit,
    }
    return {
        "boxes": draw(st.sampled_from([(), ("agent_1",), UIDS])),
        "scheduler": draw(shared_or_per_agent(st.sampled_from([None, "kl", "constant"]))),
        "preprocessors": draw(st.fixed_dictionaries({key: shared_or_per_agent(st.booleans()) for key in (
            "state_preprocessor", "value_preprocessor", "shared_state_preprocessor")})),
        "shaper": draw(st.booleans()),
        "mixed_precision": draw(st.booleans()),
        "cfg": {"rollouts": draw(st.integers(1, 4)), **{k: draw(shared_or_per_agent(v)) for k, v in per_agent.items()}},
    }


def _per_agent(value, function):
    return {uid: function(v) for uid, v in value.items()} if isinstance(value, dict) else function(value)


@pytest.mark.parametrize("algorithm", ["IPPO", "MAPPO"])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=multi_agent_cases())
def test_multi_agents_accept_section_12_inputs(backend, algorithm, tmp_path, case):
    env = wrapped_signal_env(backend, boxes=case["boxes"])
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    cfg = dict(case["cfg"])
    scheduler = _per_agent(case["scheduler"], lambda choice: _scheduler(backend, choice))
    cfg["learning_rate_scheduler"] = _per_agent(scheduler, lambda pair: pair[0])
    cfg["learning_rate_scheduler_kwargs"] = _per_agent(scheduler, lambda pair: pair[1])
    sizes = {"state_preprocessor": 3, "value_preprocessor": 1, "shared_state_preprocessor": 6}
    for key, enabled in case["preprocessors"].items():
        if key.startswith("shared") and algorithm == "IPPO":
            continue
        cfg[key] = _per_agent(enabled, lambda on: scaler if on else None)
        cfg[f"{key}_kwargs"] = {"size": sizes[key], "device": env.device}
    cfg["rewards_shaper"] = (lambda rewards, *args, **kwargs: 0.5 * rewards) if case["shaper"] else None
    if backend == "torch":
        cfg["mixed_precision"] = case["mixed_precision"]
    cfg["experiment"] = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}
    agent = make_multi_agent(backend, algorithm, env, cfg)
    trainer(backend, env, agent, timesteps=5 * cfg["rollouts"]).train()
    assert all(learner._rollout == 5 * cfg["rollouts"] for learner in agent.learners.values())
