"""Exact resume of IPPO and MAPPO: N steps, checkpoint, a fresh agent loads it and trains N more == 2N steps at once."""

import os
from typing import Any, Mapping

import numpy as np
import pytest
from builders import module, read_events, to_numpy, trainer
from ma_builders import ClockSignalEnv, make_multi_agent, wrapped_signal_env


def _run(backend, algorithm, directory, timesteps, checkpoint=None, offset=0):
    from skrl.utils import set_seed

    set_seed(7)
    env = wrapped_signal_env(backend, env=ClockSignalEnv(offset))
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    scheduler = module("resources.schedulers", backend).KLAdaptiveLR
    cfg = {"rollouts": 8, "learning_epochs": 2, "mini_batches": 2, "learning_rate": 3e-3, "entropy_loss_scale": 0.01,
           "learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": {"kl_threshold": 0.001},
           "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": 3},
           "experiment": {"directory": str(directory), "experiment_name": "run", "write_interval": 16,
                          "checkpoint_interval": 32}}
    if algorithm == "MAPPO":
        cfg.update(shared_state_preprocessor=scaler, shared_state_preprocessor_kwargs={"size": 6})
    agent = make_multi_agent(backend, algorithm, env, cfg)
    runner = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    runner.train()
    return agent


def _assert_same_tree(resumed: Any, whole: Any, path: str = "") -> None:
    if isinstance(whole, Mapping):
        assert set(resumed) == set(whole), path
        for key in whole:
            _assert_same_tree(resumed[key], whole[key], f"{path}/{key}")
    elif isinstance(whole, (list, tuple)):
        assert len(resumed) == len(whole), path
        for i, (a, b) in enumerate(zip(resumed, whole)):
            _assert_same_tree(a, b, f"{path}/{i}")
    elif hasattr(whole, "shape"):
        np.testing.assert_array_equal(to_numpy(resumed), to_numpy(whole), err_msg=path)
    else:
        assert resumed == whole, path


@pytest.mark.parametrize("algorithm", ["IPPO", "MAPPO"])
def test_resume_from_a_checkpoint_continues_exactly(backend, algorithm, tmp_path):
    ext = ".pt" if backend == "torch" else ""
    whole = _run(backend, algorithm, tmp_path / "whole", 128)
    _run(backend, algorithm, tmp_path / "first", 64)
    checkpoint = tmp_path / "first" / "run" / "checkpoints" / f"agent_64{ext}"
    resumed = _run(backend, algorithm, tmp_path / "second", 128, checkpoint=str(checkpoint), offset=64)

    states = {}
    for name, agent in (("whole", whole), ("resumed", resumed)):
        path = os.path.join(str(tmp_path), f"{name}_saved{ext}")
        agent.save(path)
        states[name] = agent._read_state(path)
    for uid in whole.possible_agents:
        _assert_same_tree(states["resumed"][uid], states["whole"][uid], uid)

    whole_events, resumed_events = read_events(whole.experiment_dir), read_events(resumed.experiment_dir)
    assert "Loss / Policy loss (agent_1)" in resumed_events and "Reward / Total reward (mean)" in resumed_events
    for tag, points in resumed_events.items():  # NaN compares equal (the stddev of a categorical policy)
        np.testing.assert_array_equal(points, [(s, v) for s, v in whole_events[tag] if s > 64], err_msg=tag)
