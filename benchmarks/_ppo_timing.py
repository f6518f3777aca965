"""Timing shared by the PPO throughput runners (plain Python: it runs in our venv and in skrl 1.4.3's).

A runner gets the job as JSON (``ppo``: the PPO config values, ``network``: the MLP layers), records a
timestamp after each update (or each compiled chunk of updates) and prints one JSON line built by ``summary``. Warm-up is the first update's extra time over a steady iteration (JIT compilation,
lazy imports, first allocations); the steady rate counts the transitions between the first and last update.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable


class UpdateClock:
    """Timestamps of the run's start and of each update's end (``wrap`` a method that ends an update)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: list[tuple[float, int]] = []

    def wrap(self, method: Callable, transitions_of: Callable[..., int]) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            out = method(*args, **kwargs)
            self.marks.append((time.perf_counter(), transitions_of(*args, **kwargs)))
            return out

        return timed

    def summary(self, transitions: int, end: float) -> dict:
        total = end - self.start
        out = {"transitions": transitions, "total_s": total, "rate": transitions / total, "updates": len(self.marks)}
        if len(self.marks) >= 2:
            (first, first_count), (last, last_count) = self.marks[0], self.marks[-1]
            steady = (last_count - first_count) / (last - first)
            out.update(steady_rate=steady, warmup_s=(first - self.start) - first_count / steady)
        return out


def report(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)
