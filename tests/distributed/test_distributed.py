"""Two CPU processes train one run: equal parameters (PPO and SAC), one run directory, rewards of both ranks logged."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from builders import read_events

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(backend, tmp_path, agent="PPO"):
    runs, out = tmp_path / "runs", tmp_path / "out"
    runs.mkdir()
    out.mkdir()
    port = str(_free_port())
    if backend == "torch":
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
                   "--master-addr", "127.0.0.1", "--master-port", port]
    else:
        command = [sys.executable, "-m", "skrl.utils.distributed.jax", "--nproc-per-node", "2",
                   "--coordinator-address", f"127.0.0.1:{port}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))}
    result = subprocess.run([*command, WORKER, backend, str(runs), str(out), agent], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return runs, out


def _assert_equal_params(out):
    """Both ranks dumped the same parameters (every model's, targets included)."""
    first, second = (dict(np.load(out / f"params_{rank}.npz")) for rank in (0, 1))
    assert sorted(first) == sorted(second) and first
    for name in first:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-5, atol=1e-6, err_msg=name)
    return first


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_two_processes_train_one_run(backend, tmp_path):
    runs, out = _launch(backend, tmp_path)
    _assert_equal_params(out)

    assert os.listdir(runs) == ["run"]  # rank 1 created no run directory of its own
    checkpoints = sorted(os.listdir(runs / "run" / "checkpoints"))
    assert [name.split(".")[0] for name in checkpoints if not name.startswith("best")] == ["agent_32", "agent_64"]

    events = read_events(str(runs / "run"))
    # rank 0's env pays 1 per step, rank 1's pays 2: the written statistics cover both ranks' episodes
    for step, value in events["Reward / Instantaneous reward (max)"]:
        assert value == 2.0, step
    for step, value in events["Reward / Instantaneous reward (min)"]:
        assert value == 1.0, step
    assert [v for _, v in events["Reward / Instantaneous reward (mean)"]] == pytest.approx([1.5] * 4)
    assert [v for _, v in events["Reward / Total reward (mean)"]] == pytest.approx([12.0] * 4)  # (8 + 16) / 2
    assert [v for _, v in events["Reward / Total reward (max)"]] == pytest.approx([16.0] * 4)


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_two_processes_off_policy_equal_params(backend, tmp_path):
    """SAC (critics, policy, entropy coefficient, targets): every gradient step averages over the ranks, whose
    rewards differ, so every parameter stays equal."""
    _, out = _launch(backend, tmp_path, "SAC")
    params = _assert_equal_params(out)
    assert int(params["gradient_steps"]) > 0
    assert {name.split("/")[0] for name in params} >= {"policy", "critic_1", "critic_2", "target_critic_1",
                                                        "target_critic_2", "log_entropy_coefficient"}
