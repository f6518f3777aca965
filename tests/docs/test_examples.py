"""Every example script runs with a tiny budget and leaves a run directory a user can read back."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _registry():
    spec = importlib.util.spec_from_file_location("examples_registry", ROOT / "examples" / "registry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


registry = _registry()
EXAMPLES = registry.find_examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.relative_path for e in EXAMPLES])
def test_example_runs_with_a_tiny_budget(example, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(example.command(registry.TINY_TIMESTEPS), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{example.relative_path} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    run_dir = tmp_path / result.stdout.split("run directory: ")[1].splitlines()[0]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["backend"] == example.backend
    assert manifest["agent"]["class"].lower() == example.agent
    assert manifest["checkpoints"] and manifest["checkpoints"][-1]["timestep"] == registry.TINY_TIMESTEPS
    assert list(run_dir.glob("events.out.tfevents.*"))


def test_every_agent_has_an_example_per_backend():
    agents = {e.agent for e in EXAMPLES}
    for agent in agents:
        assert {e.backend for e in EXAMPLES if e.agent == agent} == set(registry.BACKENDS), agent


@pytest.mark.parametrize("name, message", [("cartpole.py", "expected '<task>_<backend>.py'"),
                                           ("cartpole_tensorflow.py", "expected '<task>_<backend>.py'")])
def test_misnamed_example_files_are_reported(tmp_path, name, message):
    (tmp_path / "ppo").mkdir()
    (tmp_path / "ppo" / name).write_text('"""An example."""\n')
    with pytest.raises(registry.ExampleLayoutError, match=message):
        registry.find_examples(tmp_path)


def test_helpers_and_docstrings(tmp_path):
    (tmp_path / "ppo").mkdir()
    (tmp_path / "ppo" / "_shared.py").write_text("X = 1\n")
    (tmp_path / "ppo" / "pendulum_jax.py").write_text('"""PPO on Pendulum-v1 with JAX\n\nMore words.\n"""\n')
    (example,) = registry.find_examples(tmp_path)
    assert (example.agent, example.task, example.backend) == ("ppo", "pendulum", "jax")
    assert (example.title, example.description) == ("PPO on Pendulum-v1 with JAX", "More words.")
    (tmp_path / "ppo" / "cartpole_torch.py").write_text("X = 1\n")
    with pytest.raises(registry.ExampleLayoutError, match="no module docstring"):
        registry.find_examples(tmp_path)
