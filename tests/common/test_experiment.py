import os
import re

import pytest

from skrl.common.errors import InvalidConfigValueError
from skrl.common.experiment import ExperimentConfig, resolve_experiment_dir, resolve_interval, unique_run_directory


@pytest.mark.parametrize(
    "value, timesteps, divisor, expected",
    [
        ("auto", 100000, 100, 1000),
        ("auto", 100000, 10, 10000),
        ("auto", 1600, 100, 16),
        ("auto", 99, 100, 0),
        ("auto", 99, 10, 9),
        ("auto", None, 10, 0),
        (250, 100000, 100, 250),
        (-3, 100000, 100, -3),
    ],
)
def test_resolve_interval(value, timesteps, divisor, expected):
    assert resolve_interval(value, timesteps, divisor) == expected


@pytest.mark.parametrize("key, value", [("write_interval", "often"), ("checkpoint_interval", 1.5),
                                        ("write_interval", True)])
def test_invalid_interval_names_key_and_value(key, value):
    with pytest.raises(InvalidConfigValueError, match=rf"`{key}`.*Received: {key}="):
        ExperimentConfig(**{key: value})


def test_default_run_name_format(tmp_path):
    path = resolve_experiment_dir(ExperimentConfig(directory=str(tmp_path)), "PPO")
    assert re.fullmatch(r"\d{2}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{6}_PPO", os.path.basename(path))
    assert os.path.dirname(path) == str(tmp_path)


def test_default_directory_is_runs_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = resolve_experiment_dir(ExperimentConfig(), "PPO")
    assert os.path.dirname(path) == os.path.join(str(tmp_path), "runs")


def test_run_directories_never_collide(tmp_path):
    paths = {unique_run_directory(str(tmp_path), "PPO") for _ in range(200)}
    assert len(paths) == 200
    taken = unique_run_directory(str(tmp_path), "SAC")
    os.makedirs(taken)
    assert unique_run_directory(str(tmp_path), "SAC") != taken


def test_explicit_experiment_name_is_used(tmp_path):
    path = resolve_experiment_dir(ExperimentConfig(directory=str(tmp_path), experiment_name="exp1"), "PPO")
    assert path == os.path.join(str(tmp_path), "exp1")
