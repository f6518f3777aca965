"""``python -m skrl``: bad values give one clear line; train then eval round-trips through a checkpoint."""

import os
import subprocess
import sys

import pytest

from skrl._cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--num-envs", "0"], "--num-envs must be >= 1"),
        (["train", "--timesteps", "-5"], "--timesteps must be >= 1"),
        (["train", "--env", "NoSuchEnv-v9"], "unknown --env 'NoSuchEnv-v9'"),
        (["eval", "--checkpoint", "/nonexistent/agent_1.pt"], "does not exist"),
    ],
)
def test_bad_values_get_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("skrl: error:") and message in err and "\n" not in err


def test_bad_choice_is_reported_by_argparse():
    result = subprocess.run([sys.executable, "-m", "skrl", "train", "--backend", "tensorflow"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'tensorflow'" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_then_eval(backend, tmp_path, capsys):
    assert main(["train", "--backend", backend, "--env", "CartPole-v1", "--num-envs", "2", "--timesteps", "300",
                 "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    run_dir = out.split("run directory: ")[1].splitlines()[0]
    assert "final evaluation return:" in out
    checkpoint = os.path.join(run_dir, "checkpoints", "agent_300" + (".pt" if backend == "torch" else ""))
    assert os.path.exists(checkpoint)
    assert main(["eval", "--backend", backend, "--env", "CartPole-v1", "--checkpoint", checkpoint, "--episodes", "2"]) == 0
    assert "evaluation return:" in capsys.readouterr().out
