"""Reading runs back: ``TensorboardFileIterator`` over real runs, and ``python -m skrl plot`` writing a PNG."""

import argparse
import os
import sys

import numpy as np
import pytest
from builders import make_ppo, read_events, trainer, wrapped_gym_env

from skrl._plot import DEFAULT_TAGS, add_plot_parser, plot
from skrl.utils.postprocessing import TensorboardFileIterator

TAG = "Reward / Instantaneous reward (mean)"


def _run(backend, directory, name):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"rollouts": 16, "mini_batches": 2, "learning_epochs": 1, "experiment": {
        "directory": str(directory), "experiment_name": name, "write_interval": 16, "checkpoint_interval": 0}})
    trainer(backend, env, agent, 96).train()
    return agent.experiment_dir


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """One short CartPole run per backend, in ``<tmp>/runs/{a_torch,b_jax}``."""
    directory = tmp_path_factory.mktemp("runs")
    return [_run("torch", directory, "a_torch"), _run("jax", directory, "b_jax")]


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m skrl")
    add_plot_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_iterator_yields_each_run_with_its_scalars(two_runs):
    pattern = os.path.join(os.path.dirname(two_runs[0]), "*", "events.out.tfevents.*")
    tags = [TAG, "Loss / Value loss"]
    read = list(TensorboardFileIterator(pattern, tags))
    assert [name for name, _ in read] == ["a_torch", "b_jax"]
    for (name, data), run in zip(read, two_runs):
        events = read_events(run)
        assert set(data) == set(tags)
        assert [step for step, _ in data[TAG]] == [16, 32, 48, 64, 80, 96]
        for tag in tags:
            assert data[tag] == [[step, value] for step, value in events[tag]]


def test_iterator_accepts_one_tag_and_skips_unreadable_files(two_runs, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "events.out.tfevents.0.host").write_bytes(b"\x00not an event file" * 10)
    (name, data), = TensorboardFileIterator(str(tmp_path / "broken" / "events.out.tfevents.*"), TAG)
    assert (name, data) == ("broken", {})
    (_, data), = TensorboardFileIterator(os.path.join(two_runs[0], "events.out.tfevents.*"), TAG)
    assert list(data) == [TAG]


def test_plot_writes_a_png_of_overlaid_runs(two_runs, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    output = tmp_path / "out" / "curves.png"
    args = _parse(["plot", *two_runs, "--output", str(output)])
    assert args.tags == list(DEFAULT_TAGS)
    assert plot(args) == str(output)
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(str(output))
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert np.ptp(pixels[..., :3]) > 0  # something was drawn


@pytest.mark.parametrize("argv, error, match", [
    (["missing_dir"], FileNotFoundError, "RUN_DIR 'missing_dir' does not exist"),
    (["{empty}"], ValueError, "holds no TensorBoard event file"),
    (["{run}", "--output", "x.jpg"], ValueError, "Invalid --output.*'x.jpg'"),
    (["{run}", "--tags", "No / such tag"], ValueError, r"No tag of the runs matches.*Available tags: \[.*Reward"),
])
def test_plot_errors_name_the_bad_value(two_runs, tmp_path, argv, error, match):
    pytest.importorskip("matplotlib")
    (tmp_path / "empty").mkdir()
    argv = [a.format(empty=tmp_path / "empty", run=two_runs[0]) for a in argv]
    with pytest.raises(error, match=match):
        plot(_parse(["plot", *argv, *([] if "--output" in argv else ["--output", str(tmp_path / "p.png")])]))


def test_plot_without_matplotlib_names_the_extra(two_runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'skrl\[plot\]'"):
        plot(_parse(["plot", two_runs[0], "--output", str(tmp_path / "p.png")]))
