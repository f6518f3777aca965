"""``python -m skrl plot RUN_DIR... [--output FILE.png] [--tags TAG...]``: the curves of one or more runs, as a PNG.

    python -m skrl plot runs/25-03-29_14-03-12-123456_PPO runs/25-03-29_15-10-02-654321_PPO --output ppo.png

Each ``--tags`` entry is one panel: an exact tag or an ``fnmatch`` pattern (``"Loss / *"`` puts every loss in one
panel). The runs are overlaid in each panel, one colour per run. A ``(mean)`` tag whose ``(min)`` and ``(max)``
siblings were written gets the min-max range shaded around it.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import os
from typing import Any, Mapping

from skrl._logging import logger

DEFAULT_TAGS = ("Reward / Total reward (mean)", "Episode / Total timesteps (mean)", "Loss / *")
EVENT_FILES = "events.out.tfevents.*"

#: ``{tag: [[step, value], ...]}`` of one run
RunScalars = Mapping[str, list]


def add_plot_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``plot`` command to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    parser = subparsers.add_parser("plot", help="plot the TensorBoard curves of runs to a PNG",
                                   description="Plot the TensorBoard curves of one or more runs (overlaid) to a PNG.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories holding event files")
    parser.add_argument("--output", default="skrl_plot.png", metavar="FILE.png", help="PNG file to write")
    parser.add_argument("--tags", nargs="+", default=list(DEFAULT_TAGS), metavar="TAG",
                        help="one panel per entry: a tag or an fnmatch pattern (default: %(default)s)")
    return parser


def plot(args: argparse.Namespace) -> str:
    """Write the PNG that ``args`` (``run_dirs``, ``output``, ``tags``) describe and return its path.

    Raises:
        FileNotFoundError: a RUN_DIR does not exist.
        ValueError: a RUN_DIR holds no event file, ``--output`` is not a ``.png`` name, or no tag matched.
    """
    if not str(args.output).lower().endswith(".png"):
        raise ValueError(f"Invalid --output: expected a file name ending in .png. Received: {args.output!r}")
    runs = load_runs(args.run_dirs)
    panels = [(pattern, matching_tags(runs, pattern)) for pattern in args.tags]
    empty = [pattern for pattern, tags in panels if not tags]
    panels = [(pattern, tags) for pattern, tags in panels if tags]
    if not panels:
        available = sorted({tag for scalars in runs.values() for tag in scalars})
        raise ValueError(f"No tag of the runs matches --tags {list(args.tags)}. Available tags: {available}")
    if empty:
        logger.warning(f"No data for {empty}: those panels are left out")
    _save_figure(_draw(runs, panels), args.output)
    print(f"plot written to {args.output}")
    return args.output


def load_runs(run_dirs: list[str]) -> dict[str, RunScalars]:
    """``{run label: {tag: [[step, value], ...]}}``; the label is the directory name (the path if names repeat)."""
    from skrl.utils._tensorboard_files import read_scalars

    names = [os.path.basename(os.path.normpath(d)) for d in run_dirs]
    runs = {}
    for directory, name in zip(run_dirs, names):
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"RUN_DIR {directory!r} does not exist or is not a directory")
        if not glob.glob(os.path.join(directory, EVENT_FILES)):
            raise ValueError(f"RUN_DIR {directory!r} holds no TensorBoard event file ({EVENT_FILES})")
        runs[name if names.count(name) == 1 else os.path.normpath(directory)] = read_scalars(directory)
    return runs


def matching_tags(runs: Mapping[str, RunScalars], pattern: str) -> list[str]:
    """The tags of any run that ``pattern`` names (exactly or as an ``fnmatch`` pattern), sorted."""
    tags = {tag for scalars in runs.values() for tag in scalars}
    return sorted(tag for tag in tags if tag == pattern or fnmatch.fnmatchcase(tag, pattern))


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("python -m skrl plot needs matplotlib: pip install 'skrl[plot]'") from e
    return Figure


def _draw(runs: Mapping[str, RunScalars], panels: list[tuple[str, list[str]]]) -> Any:
    columns = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // columns)
    figure = _figure_class()(figsize=(7 * columns, 3.6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).reshape(-1)
    for ax, (pattern, tags) in zip(axes, panels):
        _draw_panel(ax, runs, pattern, tags)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return figure


def _draw_panel(ax: Any, runs: Mapping[str, RunScalars], pattern: str, tags: list[str]) -> None:
    styles = ("-", "--", ":", "-.")
    for index, (run, scalars) in enumerate(runs.items()):
        color = f"C{index % 10}"
        for tag_index, tag in enumerate(t for t in tags if t in scalars):
            steps, values = _columns(scalars[tag])
            label = run if len(tags) == 1 else f"{run}: {tag}"
            ax.plot(steps, values, styles[tag_index % len(styles)], color=color, label=label, linewidth=1.4)
            band = _min_max_band(scalars, tag)
            if band is not None:
                ax.fill_between(*band, color=color, alpha=0.15, linewidth=0)
    ax.set_title(pattern, fontsize=10)
    ax.set_xlabel("timestep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _columns(series: list) -> tuple[list, list]:
    return [step for step, _ in series], [value for _, value in series]


def _min_max_band(scalars: RunScalars, tag: str) -> Any:
    """``(steps, min, max)`` for a ``(mean)`` tag whose ``(min)``/``(max)`` siblings share its steps, else None."""
    if not tag.endswith("(mean)"):
        return None
    base = tag[: -len("(mean)")]
    low, high = scalars.get(base + "(min)"), scalars.get(base + "(max)")
    if not low or not high or len(low) != len(high):
        return None
    steps, low_values = _columns(low)
    return steps, low_values, _columns(high)[1]


def _save_figure(figure: Any, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    figure.savefig(path, dpi=110)
