"""Exact resume of every off-policy agent: N steps + checkpoint (memory included) + a new process that loads and
trains N more gives the same modules, replay memory, counters and tracked scalars as 2N steps in one process."""

import os
import pathlib
import subprocess
import sys

import numpy as np
from builders import read_events
from off_policy_cases import AGENTS

HERE = pathlib.Path(__file__).resolve().parent
N = 64


def _worker(backend, root, mode):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(HERE / "off_policy_resume_worker.py"), backend, str(root), mode],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_resume_in_a_new_process_is_bit_identical(backend, tmp_path):
    _worker(backend, tmp_path, "fresh")
    _worker(backend, tmp_path, "resume")
    for agent in AGENTS:
        whole, resumed = np.load(tmp_path / "whole" / f"{agent}.npz"), np.load(tmp_path / "second" / f"{agent}.npz")
        assert set(whole.files) == set(resumed.files) and len(whole.files) > 20, agent
        for name in whole.files:
            np.testing.assert_array_equal(resumed[name], whole[name], err_msg=f"{agent}: {name}")

        whole_events = read_events(str(tmp_path / "whole" / agent))
        resumed_events = read_events(str(tmp_path / "second" / agent))
        assert "Target / Target (mean)" in resumed_events, agent
        for tag, points in resumed_events.items():
            assert points == [(s, v) for s, v in whole_events[tag] if s > N], f"{agent}: {tag}"
