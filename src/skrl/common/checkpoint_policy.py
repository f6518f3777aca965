"""When checkpoints and tracking writes happen, what checkpoint files are called, and which state is best.

All decisions are pure: no I/O, no backend. The trainer passes 0-based timesteps; every decision is taken on
the 1-based ``timestep + 1`` (skrl's convention), so with an interval of 1000 files are ``agent_1000``,
``agent_2000``, ... and the TensorBoard x-axis reads 1000, 2000, ...
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any, Optional

CHECKPOINTS_SUBDIR = "checkpoints"


@dataclasses.dataclass(frozen=True)
class IntervalPolicy:
    """Fires every ``interval`` 1-based timesteps (never at step 1); ``interval <= 0`` never fires."""

    interval: int

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def should_fire(self, timestep: int) -> bool:
        """``timestep`` is the 0-based trainer timestep."""
        return interval_fires(self.interval, timestep)


def interval_fires(interval: int, timestep: int) -> bool:
    """``IntervalPolicy(interval).should_fire(timestep)`` without building the policy (agents ask every step)."""
    return interval > 0 and timestep > 0 and (timestep + 1) % interval == 0


@dataclasses.dataclass(frozen=True)
class FinalCheckpointPolicy:
    """A last checkpoint when training ends on a step the interval did not cover (or is interrupted)."""

    interval: int

    def should_write(self, last_timestep: int, last_written: Optional[int]) -> bool:
        return self.interval > 0 and last_timestep > 0 and last_written != last_timestep


def checkpoint_tag(timestep: Optional[int]) -> str:
    """The tag in file names: the 1-based timestep, or a timestamp when none is given."""
    if timestep is None:
        return datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f")
    return str(timestep)


def checkpoint_file_name(tag: str, module: Optional[str], extension: str, best: bool = False, prefix: str = "") -> str:
    """``agent_<tag>``, ``<module>_<tag>``, ``best_agent``, ``best_<module>`` (+ extension; ``prefix`` for multi-agent uids)."""
    stem = module if module is not None else "agent"
    if prefix:
        stem = f"{prefix}_{stem}"
    name = f"best_{stem}" if best else f"{stem}_{tag}"
    return name + extension


def checkpoint_paths(
    experiment_dir: str, tag: str, modules: list[str], separately: bool, extension: str, best: bool = False
) -> dict[Optional[str], str]:
    """Where each file of one checkpoint goes: ``{None: path}`` when grouped, ``{module: path}`` when separate."""
    directory = os.path.join(experiment_dir, CHECKPOINTS_SUBDIR)
    if not separately:
        return {None: os.path.join(directory, checkpoint_file_name(tag, None, extension, best))}
    return {m: os.path.join(directory, checkpoint_file_name(tag, m, extension, best)) for m in modules}


@dataclasses.dataclass(frozen=True)
class BestModelPolicy:
    """Decides whether a mean total reward beats the best seen so far (NaN and missing values never do)."""

    best_reward: float = float("-inf")

    def is_improvement(self, reward: Optional[float]) -> bool:
        if reward is None or reward != reward:  # None or NaN
            return False
        return reward > self.best_reward


@dataclasses.dataclass
class BestModelRecord:
    """The best state so far, held on the host (NumPy), and whether it has been written to disk."""

    timestep: int = 0
    reward: float = float("-inf")
    state: Any = None
    saved: bool = True

    def update(self, timestep: int, reward: float, state: Any) -> None:
        self.timestep, self.reward, self.state, self.saved = timestep, reward, state, False

    @property
    def policy(self) -> BestModelPolicy:
        return BestModelPolicy(self.reward)
