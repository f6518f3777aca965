"""Tracking: collect scalars without host syncs, aggregate them per write interval, send them to sinks.

Values recorded with ``track_data`` may be device scalars (torch tensors, jax arrays): they are kept as
they are and fetched to the host all at once when the interval is written. Episode statistics are
accumulated on the device by ``episode_statistics_update`` (written once over an array namespace ``xp``,
which is ``torch`` or ``jax.numpy``) and fetched once per interval too.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np

REWARD_TAGS = ("Reward / Instantaneous reward (max)", "Reward / Instantaneous reward (min)", "Reward / Instantaneous reward (mean)")
TOTAL_REWARD_MEAN = "Reward / Total reward (mean)"


def reduce_tag(tag: str, values: np.ndarray) -> float:
    """``(min)`` tags keep the minimum, ``(max)`` tags the maximum, every other tag the mean."""
    if tag.endswith("(min)"):
        return float(np.min(values))
    if tag.endswith("(max)"):
        return float(np.max(values))
    return float(np.mean(values))


class TrackingBuffer(dict):
    """``{tag: [values]}`` recorded since the last write (a dict, as ``agent.tracking_data`` was in skrl)."""

    def record(self, tag: str, value: Any) -> None:
        self.setdefault(tag, []).append(value)

    def drain(self, fetch: Callable[[list], list]) -> dict[str, float]:
        """Aggregate every tag (one batched host transfer through ``fetch``) and clear the buffer."""
        tags = [tag for tag, values in self.items() if values]
        flat = [v for tag in tags for v in self[tag]]
        host = fetch(flat) if flat else []
        out, i = {}, 0
        for tag in tags:
            n = len(self[tag])
            out[tag] = reduce_tag(tag, np.asarray([np.asarray(v, dtype=np.float64).mean() for v in host[i:i + n]]))
            i += n
        self.clear()
        return out


# ---- episode statistics, over an array namespace ----------------------------------------------------------

EPISODE_FIELDS = ("cum_reward", "cum_length", "episodes", "return_sum", "return_min", "return_max",
                  "length_sum", "length_min", "length_max", "reward_sum", "reward_count", "reward_min", "reward_max")


def episode_statistics_init(xp: Any, num_envs: int, like: Any = None) -> dict[str, Any]:
    """Zeroed accumulators: per-env running return/length and per-interval aggregates (float32 scalars)."""
    kwargs = {} if like is None else like

    def scalar(value: float) -> Any:
        return xp.full((), value, dtype=xp.float32, **kwargs)

    return {
        "cum_reward": xp.zeros((num_envs,), dtype=xp.float32, **kwargs),
        "cum_length": xp.zeros((num_envs,), dtype=xp.float32, **kwargs),
        "episodes": scalar(0.0), "return_sum": scalar(0.0), "return_min": scalar(math.inf), "return_max": scalar(-math.inf),
        "length_sum": scalar(0.0), "length_min": scalar(math.inf), "length_max": scalar(-math.inf),
        "reward_sum": scalar(0.0), "reward_count": scalar(0.0), "reward_min": scalar(math.inf), "reward_max": scalar(-math.inf),
    }


def episode_statistics_update(xp: Any, stats: Mapping[str, Any], rewards: Any, done: Any) -> dict[str, Any]:
    """One env step: add ``rewards`` (N or N x 1) to the running returns and close the episodes where ``done``.

    Pure and branch-free, so it runs under ``jax.jit`` and never needs the host.
    """
    rewards = xp.reshape(rewards, (-1,)).astype(xp.float32) if hasattr(rewards, "astype") else xp.reshape(rewards, (-1,))
    done = xp.reshape(done, (-1,)) != 0
    cum_reward = stats["cum_reward"] + rewards
    cum_length = stats["cum_length"] + 1.0
    n_done = xp.sum(done.astype(xp.float32) if hasattr(done, "astype") else done)
    inf = math.inf
    return {
        "cum_reward": xp.where(done, 0.0, cum_reward),
        "cum_length": xp.where(done, 0.0, cum_length),
        "episodes": stats["episodes"] + n_done,
        "return_sum": stats["return_sum"] + xp.sum(xp.where(done, cum_reward, 0.0)),
        "return_min": xp.minimum(stats["return_min"], xp.min(xp.where(done, cum_reward, inf))),
        "return_max": xp.maximum(stats["return_max"], xp.max(xp.where(done, cum_reward, -inf))),
        "length_sum": stats["length_sum"] + xp.sum(xp.where(done, cum_length, 0.0)),
        "length_min": xp.minimum(stats["length_min"], xp.min(xp.where(done, cum_length, inf))),
        "length_max": xp.maximum(stats["length_max"], xp.max(xp.where(done, cum_length, -inf))),
        "reward_sum": stats["reward_sum"] + xp.sum(rewards),
        "reward_count": stats["reward_count"] + rewards.shape[0],
        "reward_min": xp.minimum(stats["reward_min"], xp.min(rewards)),
        "reward_max": xp.maximum(stats["reward_max"], xp.max(rewards)),
    }


def episode_statistics_scalars(host: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The skrl tags for one interval, from host copies of the accumulators.

    ``Total reward`` / ``Total timesteps`` cover the episodes that finished during the interval (an episode that
    spans a write counts whole, when it finishes); their mean is a plain per-episode mean.
    """
    out: dict[str, float] = {}
    if float(host["reward_count"]) > 0:
        out["Reward / Instantaneous reward (max)"] = float(host["reward_max"])
        out["Reward / Instantaneous reward (min)"] = float(host["reward_min"])
        out["Reward / Instantaneous reward (mean)"] = float(host["reward_sum"]) / float(host["reward_count"])
    episodes = float(host["episodes"])
    if episodes > 0:
        out["Reward / Total reward (max)"] = float(host["return_max"])
        out["Reward / Total reward (min)"] = float(host["return_min"])
        out["Reward / Total reward (mean)"] = float(host["return_sum"]) / episodes
        out["Episode / Total timesteps (max)"] = float(host["length_max"])
        out["Episode / Total timesteps (min)"] = float(host["length_min"])
        out["Episode / Total timesteps (mean)"] = float(host["length_sum"]) / episodes
    return out


def reset_interval(stats: Mapping[str, Any], fresh: Mapping[str, Any]) -> dict[str, Any]:
    """Start a new interval: keep the per-env running returns, take every aggregate from ``fresh``."""
    return {k: (stats[k] if k in ("cum_reward", "cum_length") else fresh[k]) for k in stats}


# ---- sinks ----------------------------------------------------------------------------------------------


def _summary_writer_class() -> Any:
    try:
        import tensorboardX
        from tensorboardX.proto.summary_pb2 import Summary
    except ImportError as e:  # pragma: no cover - core dependency
        raise ImportError("TensorBoard writing needs tensorboardX: pip install tensorboardX") from e

    class SummaryWriter(tensorboardX.SummaryWriter):
        """tensorboardX's writer, keeping scalar tags verbatim (``"Reward / Total reward (mean)"``, as skrl shows them).

        tensorboardX would rewrite spaces and parentheses to underscores; skrl's tags have always had them.
        """

        def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: Any = None,
                       **kwargs: Any) -> None:
            if kwargs.get("display_name") or kwargs.get("summary_description"):
                return super().add_scalar(tag, scalar_value, global_step, walltime, **kwargs)
            value = float(np.asarray(_host_number(scalar_value), dtype=np.float64).reshape(()))
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
            self._get_file_writer().add_summary(summary, global_step, walltime)

    return SummaryWriter


def _host_number(value: Any) -> Any:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


class TensorBoardSink:
    """Writes scalars to TensorBoard event files in ``log_dir`` with tensorboardX.

    The writer is created on first use (so a run with tracking off leaves no event file), flushed after every
    write so that a crash loses at most one interval, and ``close()`` is safe to call twice.
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self._writer: Any = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            self._writer = _summary_writer_class()(log_dir=self.log_dir)
        return self._writer

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, global_step=step)
        if scalars:
            self.writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None


def write_to_sinks(sinks: Iterable[Any], scalars: Mapping[str, float], step: int) -> None:
    for sink in sinks:
        sink.write(scalars, step)
