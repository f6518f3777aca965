"""Checkpoint files survive SIGKILL at any moment, and loading never runs code from a file."""

import json
import pathlib
import pickle
import subprocess
import sys

import pytest

from skrl.common.errors import UnsafeCheckpointError

KILLS = 50
HARNESS = pathlib.Path(__file__).resolve().parents[1] / "checkpoint_kill_worker.py"


def _load(backend, path):
    if backend == "torch":
        from skrl.torch.checkpoint_io import load_state

        return load_state(path, "cpu")
    from skrl.jax.checkpoint_io import load_state

    return load_state(path)


def test_sigkill_never_leaves_a_truncated_checkpoint(backend, tmp_path):
    result = subprocess.run([sys.executable, str(HARNESS), backend, str(tmp_path), str(KILLS)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["kills"] == KILLS
    for stream in summary["newest"]:  # every final name loaded (in the harness); the newest only moves on
        completed = [n for n in stream if n is not None]
        assert completed and completed == sorted(completed)


class _Payload:
    """Unpickling this creates a file: proof that code from the checkpoint ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_torch_checkpoint_with_a_pickle_payload_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from skrl.torch.checkpoint_io import load_state

    marker = tmp_path / "pwned"
    path = tmp_path / "agent_1.pt"
    torch.save({"policy": {"w": torch.zeros(2)}, "evil": _Payload(str(marker))}, path)
    with pytest.raises(UnsafeCheckpointError, match="could run arbitrary code"):
        load_state(str(path), "cpu")
    assert not marker.exists()


def test_legacy_jax_pickle_with_a_payload_is_refused(tmp_path):
    pytest.importorskip("jax")
    from skrl.jax.checkpoint_io import load_state

    marker = tmp_path / "pwned"
    path = tmp_path / "agent_1.pickle"
    with open(path, "wb") as file:
        pickle.dump({"policy": b"\x80", "evil": _Payload(str(marker))}, file, protocol=4)
    with pytest.raises(UnsafeCheckpointError, match=r"references \w+\.open"):
        load_state(str(path))
    assert not marker.exists()


def test_agent_load_refuses_a_payload_and_runs_nothing(backend, tmp_path):
    from builders import make_ppo, wrapped_gym_env

    env = wrapped_gym_env(backend, "Pendulum-v1", num_envs=1)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                   "checkpoint_interval": 0}})
    marker = tmp_path / "pwned"
    path = tmp_path / ("agent.pt" if backend == "torch" else "agent.pickle")
    if backend == "torch":
        import torch

        torch.save({"policy": _Payload(str(marker))}, path)
    else:
        with open(path, "wb") as file:
            pickle.dump({"policy": _Payload(str(marker))}, file, protocol=4)
    with pytest.raises(UnsafeCheckpointError):
        agent.load(str(path))
    assert not marker.exists()


def test_truncated_checkpoint_gets_a_clear_error(backend, tmp_path):
    from skrl.common.errors import CheckpointFileError

    if backend == "torch":
        import torch

        path = tmp_path / "agent_1.pt"
        torch.save({"policy": {"w": torch.zeros(1000)}}, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path = tmp_path / "agent_1.pickle"
        path.write_bytes(pickle.dumps({"policy": b"x" * 100}, protocol=4)[:40])
    with pytest.raises(CheckpointFileError, match="corrupt or truncated"):
        _load(backend, str(path))


def test_torch_checkpoint_with_numpy_scalars_loads(tmp_path):
    import numpy as np
    import torch

    from skrl.torch.checkpoint_io import load_state

    path = tmp_path / "agent_1.pt"
    torch.save({"policy": {"w": torch.ones(2)}, "last_mean_rewards": np.float32(1.5), "epoch": np.int64(3)}, path)
    state = load_state(str(path), "cpu")
    assert float(state["last_mean_rewards"]) == 1.5 and int(state["epoch"]) == 3


def test_jax_save_never_replaces_a_directory_that_is_not_a_checkpoint(tmp_path):
    pytest.importorskip("jax")
    import numpy as np

    from skrl.jax.checkpoint_io import save_state

    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{}")
    with pytest.raises(FileExistsError, match="not a checkpoint"):
        save_state({"w": np.zeros(3)}, str(run))
    assert (run / "run.json").exists()
    save_state({"w": np.zeros(3)}, str(tmp_path / "ckpt"))
    save_state({"w": np.ones(3)}, str(tmp_path / "ckpt"))  # an existing checkpoint is replaced
