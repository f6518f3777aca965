"""Exact resume: N steps + checkpoint + a new process that loads and trains N more == 2N steps in one process."""

import os
import pathlib
import subprocess
import sys

import numpy as np
from builders import make_ppo, read_events, trainer, wrapped_gym_env

HERE = pathlib.Path(__file__).resolve().parents[1]


def _worker(*args):
    env = {**os.environ, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, str(HERE / "resume_worker.py"), *map(str, args)], check=True, env=env,
                   capture_output=True, text=True)


def test_resume_in_a_new_process_is_bit_identical(backend, tmp_path):
    ext = ".pt" if backend == "torch" else ""
    _worker(backend, tmp_path / "whole", 128, tmp_path / "whole.npz")
    _worker(backend, tmp_path / "first", 64, tmp_path / "first.npz")
    checkpoint = tmp_path / "first" / "run" / "checkpoints" / f"agent_64{ext}"
    assert checkpoint.exists()
    _worker(backend, tmp_path / "second", 128, tmp_path / "second.npz", checkpoint)

    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "second.npz")
    assert set(whole.files) == set(resumed.files) and len(whole.files) > 10
    for name in whole.files:
        np.testing.assert_array_equal(resumed[name], whole[name], err_msg=name)

    whole_events = read_events(str(tmp_path / "whole" / "run"))
    resumed_events = read_events(str(tmp_path / "second" / "run"))
    assert "Loss / Policy loss" in resumed_events and "Reward / Total reward (mean)" in resumed_events
    for tag, points in resumed_events.items():
        assert [s for s, _ in points] == [s for s, _ in whole_events[tag] if s > 64], tag
        assert [v for _, v in points] == [v for s, v in whole_events[tag] if s > 64], tag


def test_final_checkpoint_when_run_length_is_not_a_multiple(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 300}})
    trainer(backend, env, agent, 1000).train()
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    assert {f"agent_{t}{ext}" for t in (300, 600, 900, 1000)} == {n for n in names if n.startswith("agent_")}


def test_interrupted_run_writes_a_checkpoint_for_the_last_completed_step(backend, tmp_path):
    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 100}})
    original = agent.post_interaction

    def interrupt(timestep, timesteps):
        if timestep == 150:
            raise KeyboardInterrupt
        original(timestep=timestep, timesteps=timesteps)

    agent.post_interaction = interrupt
    try:
        trainer(backend, env, agent, 1000).train()
    except KeyboardInterrupt:
        pass
    ext = ".pt" if backend == "torch" else ""
    names = set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))
    assert f"agent_100{ext}" in names and f"agent_150{ext}" in names
