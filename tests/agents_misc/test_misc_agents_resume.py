"""Exact resume for TRPO, CEM, Q-learning and SARSA on both backends: N steps, checkpoint, then a fresh agent that
loads it and trains N more ends bit-identical to 2N steps in one go, with the same TensorBoard values after N."""

import gymnasium
import numpy as np
import pytest
from builders import module, read_events, trainer
from misc_agents import AGENTS, make_agent
from resume_worker import ClockEnv

from skrl.utils import set_seed

HALF = 16


class DiscreteClockEnv(gymnasium.Env):
    """Discrete observations and episode ends that depend only on a global step counter (tabular agents)."""

    def __init__(self, offset=0):
        self.observation_space = gymnasium.spaces.Discrete(8)
        self.action_space = gymnasium.spaces.Discrete(3)
        self.t = offset

    def reset(self, *, seed=None, options=None):
        return self.t % 8, {}

    def step(self, action):
        self.t += 1
        return self.t % 8, float(int(action) == self.t % 3), self.t % 7 == 0, False, {}


def _config(backend, name, directory):
    cfg = {"experiment": {"directory": directory, "experiment_name": "run", "write_interval": 4,
                          "checkpoint_interval": HALF}}
    if name in ("trpo", "cem"):
        scaler = module("resources.preprocessors", backend).RunningStandardScaler
        scheduler = module("resources.schedulers", backend).KLAdaptiveLR
        cfg.update({"rollouts": 8, "learning_rate_scheduler": scheduler,
                    "learning_rate_scheduler_kwargs": {"kl_threshold": 0.001}, "state_preprocessor": scaler,
                    "state_preprocessor_kwargs": {"size": 4, "device": None}})
    if name == "trpo":
        cfg.update({"learning_epochs": 2, "mini_batches": 2})
    return cfg


def _flat_state(backend, agent):
    """Every array of every checkpoint module (parameters, tables, optimizer moments, preprocessor statistics)."""
    import jax

    out = {}
    for name, state in agent._module_states().items():
        leaves = jax.tree_util.tree_leaves_with_path(state, is_leaf=lambda x: hasattr(x, "detach"))
        for path, leaf in leaves:
            out[f"{name}{jax.tree_util.keystr(path)}"] = np.asarray(leaf.detach().cpu() if hasattr(leaf, "detach") else leaf)
    return out


def _run(backend, name, directory, timesteps, checkpoint=None):
    set_seed(7)
    offset = HALF if checkpoint else 0
    raw = DiscreteClockEnv(offset) if name in ("q_learning", "sarsa") else ClockEnv(offset)
    env = module("envs.wrappers", backend).wrap_env(raw, wrapper="gymnasium", verbose=False)
    agent = make_agent(backend, name, env, _config(backend, name, directory))
    run = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    run.train()
    return agent, _flat_state(backend, agent)


@pytest.mark.parametrize("name", AGENTS)
def test_resume_is_exact(backend, name, tmp_path):
    ext = ".pt" if backend == "torch" else ""
    whole, whole_state = _run(backend, name, str(tmp_path / "whole"), 2 * HALF)
    _run(backend, name, str(tmp_path / "first"), HALF)
    checkpoint = tmp_path / "first" / "run" / "checkpoints" / f"agent_{HALF}{ext}"
    resumed, resumed_state = _run(backend, name, str(tmp_path / "second"), 2 * HALF, str(checkpoint))

    assert set(resumed_state) == set(whole_state) and whole_state
    for key, value in whole_state.items():
        np.testing.assert_array_equal(resumed_state[key], value, err_msg=key)
    whole_events, resumed_events = read_events(whole.experiment_dir), read_events(resumed.experiment_dir)
    assert "Reward / Total reward (mean)" in resumed_events
    for tag, points in resumed_events.items():
        assert points == [(s, v) for s, v in whole_events[tag] if s > HALF], tag
