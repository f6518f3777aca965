"""Shared steps of the configuration tests: build the config of a drawn case, train, check tags and save/load."""

import glob
import os
import uuid

import numpy as np
from builders import module, read_events, to_numpy, trainer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from misc_agents import BASE_TAGS, EPISODE_TAGS, LEARNING_RATE_TAGS, UPDATE_TAGS, make_agent, observations

from skrl.utils.postprocessing import TensorboardFileIterator

unit = st.floats(0, 1, allow_nan=False)
EXAMPLES = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def scheduler_of(backend, choice, value):
    """None, the KL-adaptive scheduler or a constant schedule of the backend, with its kwargs."""
    if choice == "kl":
        return module("resources.schedulers", backend).KLAdaptiveLR, {"kl_threshold": value}
    if choice == "constant":
        if backend == "torch":
            import torch

            return torch.optim.lr_scheduler.ConstantLR, {"factor": value}
        import optax

        return optax.schedules.constant_schedule, {"value": value}
    return None, {}


def draw_resources(draw):
    """The resource choices drawn for every gradient-based agent (scheduler, preprocessor, shaper, env)."""
    return {
        "scheduler": draw(st.sampled_from([None, "kl", "constant"])), "scheduler_value": draw(st.floats(0.1, 1)),
        "state_preprocessor": draw(st.booleans()), "shaper": draw(st.booleans()), "num_envs": draw(st.integers(1, 4)),
        "discrete": draw(st.booleans()),
    }


def configure(backend, case, env, directory):
    cfg = dict(case["cfg"])
    if backend == "jax":
        cfg.pop("mixed_precision", None)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    if "scheduler" in case:
        scheduler, kwargs = scheduler_of(backend, case["scheduler"], case["scheduler_value"])
        cfg.update({"learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": kwargs,
                    "state_preprocessor": scaler if case["state_preprocessor"] else None,
                    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device}})
    if "value_preprocessor" in case:
        cfg.update({"value_preprocessor": scaler if case["value_preprocessor"] else None,
                    "value_preprocessor_kwargs": {"size": 1, "device": env.device}})
    cfg["rewards_shaper"] = (lambda rewards, *args, **kwargs: 0.5 * rewards) if case["shaper"] else None
    cfg["experiment"] = {"directory": directory, "experiment_name": uuid.uuid4().hex, "write_interval": 1,
                         "checkpoint_interval": 0}
    return cfg


def train(backend, name, case, tmp_path, env, timesteps, **model_kwargs):
    """Train ``name`` for ``timesteps`` with the drawn config; return it and a builder of a fresh twin."""
    cfg = configure(backend, case, env, str(tmp_path))
    agent = make_agent(backend, name, env, cfg, **model_kwargs)
    trainer(backend, env, agent, timesteps).train()
    fresh_cfg = {**cfg, "experiment": {**cfg["experiment"], "experiment_name": uuid.uuid4().hex, "write_interval": 0}}
    return agent, lambda: make_agent(backend, name, env, fresh_cfg, **model_kwargs)


def written_tags(experiment_dir, name):
    """The tags of reference 2.5 found with ``TensorboardFileIterator``, and every tag in the event files."""
    known = sorted(BASE_TAGS | EPISODE_TAGS | UPDATE_TAGS[name] | {LEARNING_RATE_TAGS.get(name, "")} - {""})
    files = glob.glob(os.path.join(experiment_dir, "events.out.tfevents.*"))
    found = {tag for _, scalars in TensorboardFileIterator(files[0], known) for tag, points in scalars.items() if points}
    return found, set(read_events(experiment_dir))


def check_tags(agent, name, case, updated):
    """Exactly the tags of reference 2.5 for ``name`` and its config (update tags only if it ``updated``)."""
    found, written = written_tags(agent.experiment_dir, name)
    assert found == written, f"tags outside reference 2.5: {written - found}"
    assert BASE_TAGS <= written
    assert not (EPISODE_TAGS & written) or EPISODE_TAGS <= written
    expected = set(UPDATE_TAGS[name]) if updated else set()
    if updated and case.get("scheduler"):
        expected.add(LEARNING_RATE_TAGS[name])
    assert written - BASE_TAGS - EPISODE_TAGS == expected


def _host(x):
    return to_numpy(x.float() if hasattr(x, "float") and hasattr(x, "detach") else x)


def check_save_load(backend, name, agent, env, make_fresh, tmp_path):
    """A fresh agent that loads the saved file acts exactly as the trained one (the RNG state is restored too)."""
    path = str(tmp_path / ("agent.pt" if backend == "torch" else "agent"))
    agent.save(path)
    fresh = make_fresh()
    fresh.init(trainer_cfg={"timesteps": 0})
    obs = observations(backend, env)
    results = []
    for each in (agent, fresh):
        each.load(path)
        actions, _, outputs = each.act(obs, 10**6, 10**6)
        deterministic = outputs.get("mean_actions", outputs.get("net_output", actions))
        results.append((_host(actions), _host(deterministic)))
    for trained, loaded in zip(*results):
        np.testing.assert_array_equal(loaded, trained)
    if name in ("q_learning", "sarsa"):
        np.testing.assert_array_equal(_host(fresh.policy.table()), _host(agent.policy.table()))
