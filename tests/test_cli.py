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


def test_eval_rebuilds_the_agent_from_a_run_directory(backend, tmp_path, capsys):
    import json

    from skrl.utils.checkpoints import find_checkpoint

    assert main(["train", "--backend", backend, "--num-envs", "2", "--timesteps", "300", "--directory", str(tmp_path)]) == 0
    run_dir = capsys.readouterr().out.split("run directory: ")[1].splitlines()[0]
    manifest = json.loads(open(os.path.join(run_dir, "run.json")).read())
    assert manifest["backend"] == backend and manifest["agent"]["class"] == "PPO"
    assert manifest["environment"]["id"] == "CartPole-v1" and manifest["seed"] == 42
    assert manifest["models"]["policy"]["recipe"]["function"] == "categorical_model"
    assert [c["timestep"] for c in manifest["checkpoints"]][-1] == 300
    assert find_checkpoint(run_dir, "latest").endswith("agent_300" + (".pt" if backend == "torch" else ""))
    assert main(["eval", run_dir, "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "evaluation return:" in out and "checkpoints" in out
