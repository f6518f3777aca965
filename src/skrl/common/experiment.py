"""The ``experiment`` config block: keys and defaults, interval resolution and the run directory."""

from __future__ import annotations

import dataclasses
import datetime
import os
import threading
from typing import Any, Mapping, Union

from skrl.common.errors import InvalidConfigValueError

EXPERIMENT_DEFAULT_CONFIG: dict[str, Any] = {
    "directory": "",  # parent directory of the run; "" means ./runs of the working directory at agent construction
    "experiment_name": "",  # run sub-directory; "" means "<%y-%m-%d_%H-%M-%S-%f>_<Agent>"
    "write_interval": "auto",  # TensorBoard interval in timesteps; "auto" = timesteps / 100; <= 0 disables tracking
    "checkpoint_interval": "auto",  # checkpoint interval in timesteps; "auto" = timesteps / 10; <= 0 disables checkpoints
    "store_separately": False,  # one file per module instead of one file per checkpoint
    "checkpoint_memory": False,  # also store the memory's contents (replay buffer) in each checkpoint
    "wandb": False,  # log to Weights & Biases as well
    "wandb_kwargs": {},  # keyword arguments for wandb.init
}

Interval = Union[int, str]


def _check_interval(name: str, value: Any) -> None:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool)):
        return
    raise InvalidConfigValueError(f"Invalid `{name}`: expected an int or 'auto'. Received: {name}={value!r}")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Validated form of the ``experiment`` dict (see ``EXPERIMENT_DEFAULT_CONFIG`` for the meaning of each field)."""

    directory: str = ""
    experiment_name: str = ""
    write_interval: Interval = "auto"
    checkpoint_interval: Interval = "auto"
    store_separately: bool = False
    checkpoint_memory: bool = False
    wandb: bool = False
    wandb_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_interval("write_interval", self.write_interval)
        _check_interval("checkpoint_interval", self.checkpoint_interval)
        for name in ("directory", "experiment_name"):
            value = getattr(self, name)
            if not isinstance(value, (str, os.PathLike)):
                raise InvalidConfigValueError(f"Invalid `{name}`: expected a str. Received: {name}={value!r}")
        if not isinstance(self.wandb_kwargs, Mapping):
            raise InvalidConfigValueError(f"Invalid `wandb_kwargs`: expected a dict. Received: wandb_kwargs={self.wandb_kwargs!r}")

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> "ExperimentConfig":
        return cls(**{f.name: cfg[f.name] for f in dataclasses.fields(cls) if f.name in cfg})


def resolve_interval(value: Interval, timesteps: int | None, divisor: int) -> int:
    """``"auto"`` becomes ``int(timesteps / divisor)`` (0 without timesteps); ints are kept."""
    if value == "auto":
        return int((timesteps or 0) / divisor)
    return int(value)


_names_lock = threading.Lock()
_names_taken: set[str] = set()


def build_run_name(agent_name: str, now: datetime.datetime | None = None) -> str:
    """``<%y-%m-%d_%H-%M-%S-%f>_<agent_name>``, e.g. ``25-03-29_14-03-12-123456_PPO``."""
    now = now or datetime.datetime.now()
    return f"{now.strftime('%y-%m-%d_%H-%M-%S-%f')}_{agent_name}"


def unique_run_directory(directory: str, agent_name: str) -> str:
    """A new run directory path under ``directory`` that no other agent of this process or run on disk uses.

    Two agents built within the same microsecond, or a name that already exists on disk, get the next free
    timestamp name rather than sharing (and overwriting) one run directory.
    """
    now = datetime.datetime.now()
    with _names_lock:
        while True:
            path = os.path.join(directory, build_run_name(agent_name, now))
            if path not in _names_taken and not os.path.exists(path):
                _names_taken.add(path)
                return path
            now += datetime.timedelta(microseconds=1)


def resolve_experiment_dir(experiment: ExperimentConfig, agent_name: str) -> str:
    """The run directory for ``experiment``: ``<directory or ./runs>/<experiment_name or timestamp_Agent>``."""
    directory = os.fspath(experiment.directory) or os.path.join(os.getcwd(), "runs")
    if experiment.experiment_name:
        return os.path.join(directory, os.fspath(experiment.experiment_name))
    return unique_run_directory(directory, agent_name)
