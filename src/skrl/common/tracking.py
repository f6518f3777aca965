"""Tracking: collect scalars without host syncs, aggregate them per write interval, send them to sinks.

Values recorded with ``track_data`` may be device scalars (torch tensors, jax arrays): they are kept as
they are and fetched to the host all at once when the interval is written. Episode statistics are
accumulated on the device by ``episode_statistics_update`` (written once over an array namespace ``xp``,
which is ``torch`` or ``jax.numpy``) and fetched once per interval too.
"""

from __future__ import annotations

import atexit
import math
import os
import socket
import struct
import time
from typing import Any, Callable, Iterable, Mapping, Optional

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

    Pure and branch-free, so it runs under ``jax.jit`` (e.g. inside a ``lax.scan``) and never needs the host.
    """
    return episode_statistics_update_block(xp, stats, xp.reshape(rewards, (1, -1)), xp.reshape(done, (1, -1)))


#: env steps folded into the statistics at once by ``episode_statistics_update_block``
STATISTICS_BLOCK_STEPS = 64
#: steps a ``HostStepBlock`` holds before it is folded: a fold costs ~30 NumPy calls whatever the block's length,
#: and a write interval folds anyway, so a longer block folds less often for the same work per step
HOST_BLOCK_STEPS = 256


def _cummax_rows(xp: Any, x: Any) -> Any:
    if hasattr(xp, "cummax"):  # torch
        return xp.cummax(x, 0).values
    return xp.maximum.accumulate(x, axis=0)  # numpy, jax.numpy


def _take_rows(xp: Any, x: Any, index: Any) -> Any:
    if hasattr(xp, "take_along_dim"):  # torch
        return xp.take_along_dim(x, index, 0)
    return xp.take_along_axis(x, index, axis=0)


def episode_statistics_update_block(xp: Any, stats: Mapping[str, Any], rewards: Any, done: Any,
                                    steps: Any = None) -> dict[str, Any]:
    """``K`` env steps at once (``rewards``, ``done``: K x N): the result of ``K`` calls of
    ``episode_statistics_update``, in about 30 array operations for the whole block instead of about 25 per step.

    Only the first ``steps`` rows count (default: all; a JAX caller pads blocks to one shape and passes the number
    of real rows, so that one compilation serves every block). Pure and branch-free, like the per-step version.

    Each step ``t`` (0-based, within the block) where env ``e`` is done closes the episode that started after the
    previous done ``p`` of that env: its return is ``cumsum(rewards)[t] - cumsum(rewards)[p]`` and its length
    ``t - p``; without a previous done in the block the running return/length carried in ``stats`` is added.
    """
    k = rewards.shape[0]
    rewards = xp.reshape(rewards, (k, -1)).astype(xp.float32) if hasattr(rewards, "astype") else xp.reshape(rewards, (k, -1))
    done = xp.reshape(done, (k, -1)) != 0
    row = xp.cumsum(xp.ones_like(done, dtype=getattr(xp, "long", xp.int32)), 0) - 1
    valid = None if steps is None else row < steps
    if valid is not None:
        rewards, done = xp.where(valid, rewards, 0.0), done & valid
    returns = xp.cumsum(rewards, 0)
    last_done = _cummax_rows(xp, xp.where(done, row, -1))
    previous = xp.concatenate([xp.full_like(last_done[:1], -1), last_done[:-1]], 0)
    first = previous < 0
    episode_return = returns - xp.where(first, -stats["cum_reward"], _take_rows(xp, returns, xp.where(first, 0, previous)))
    episode_length = (row - previous) + xp.where(first, stats["cum_length"], 0.0)
    count = k if steps is None else steps
    final = last_done[-1:]
    inf = math.inf
    low, high = (rewards, rewards) if valid is None else (xp.where(valid, rewards, inf), xp.where(valid, rewards, -inf))
    updated = {
        "cum_reward": xp.where(final[0] >= 0, returns[-1] - _take_rows(xp, returns, xp.where(final < 0, 0, final))[0],
                               stats["cum_reward"] + returns[-1]),
        "cum_length": xp.where(final[0] >= 0, (count - 1 - final[0]) + 0.0, stats["cum_length"] + count),
        "episodes": stats["episodes"] + xp.sum(done),
        "return_sum": stats["return_sum"] + xp.sum(xp.where(done, episode_return, 0.0)),
        "return_min": xp.minimum(stats["return_min"], xp.min(xp.where(done, episode_return, inf))),
        "return_max": xp.maximum(stats["return_max"], xp.max(xp.where(done, episode_return, -inf))),
        "length_sum": stats["length_sum"] + xp.sum(xp.where(done, episode_length, 0.0)),
        "length_min": xp.minimum(stats["length_min"], xp.min(xp.where(done, episode_length, inf))),
        "length_max": xp.maximum(stats["length_max"], xp.max(xp.where(done, episode_length, -inf))),
        "reward_sum": stats["reward_sum"] + xp.sum(rewards),
        "reward_count": stats["reward_count"] + count * rewards.shape[1],
        "reward_min": xp.minimum(stats["reward_min"], xp.min(low)),
        "reward_max": xp.maximum(stats["reward_max"], xp.max(high)),
    }
    return {key: xp.asarray(value, dtype=xp.float32) for key, value in updated.items()}


def episode_statistics_fold(xp: Any, stats: Mapping[str, Any], snapshots: Any, steps: Any = None) -> dict[str, Any]:
    """Fold per-step ``(rewards, terminated, truncated)`` snapshots (consecutive steps, oldest first) into ``stats``.

    Agents keep one cheap snapshot per step and fold them here in blocks; the stacking, flattening and the
    ``done`` mask happen once per block instead of once per step.
    """
    def stacked(i: int) -> Any:
        return xp.stack([xp.reshape(snapshot[i], (-1,)) for snapshot in snapshots])

    done = (stacked(1) != 0) | (stacked(2) != 0)
    return episode_statistics_update_block(xp, stats, stacked(0), done, steps)


class HostStepBlock:
    """Up to ``capacity`` (``HOST_BLOCK_STEPS``) env steps of rewards and terminated/truncated flags, written row by row into
    preallocated NumPy arrays in the shape the env gives them: a step costs three row copies; flattening and the
    done flags are computed once per block, in ``fold``.

    It reads like the list of ``(rewards, done, done)`` snapshots it replaces (``len``, ``block[i]``).
    """

    def __init__(self, capacity: int = HOST_BLOCK_STEPS) -> None:
        self.capacity = capacity
        self._rewards: Optional[np.ndarray] = None
        self._terminated: Optional[np.ndarray] = None
        self._truncated: Optional[np.ndarray] = None
        self._row_shape: tuple = ()
        self._steps = 0

    def append(self, snapshot: tuple) -> None:
        rewards, terminated, truncated = snapshot
        shape = np.shape(rewards)
        if shape != self._row_shape or self._rewards is None:
            if self._steps:
                raise ValueError(f"The rewards' shape changed within a block: {shape} after {self._row_shape}")
            self._row_shape = shape
            self._rewards = np.zeros((self.capacity, *shape), np.float32)
            self._terminated = np.zeros((self.capacity, *np.shape(terminated)), np.bool_)
            self._truncated = np.zeros((self.capacity, *np.shape(truncated)), np.bool_)
        step = self._steps
        self._rewards[step] = rewards
        self._terminated[step] = terminated
        self._truncated[step] = truncated
        self._steps = step + 1

    def __len__(self) -> int:
        return self._steps

    def _done(self, rows: slice) -> np.ndarray:
        steps = len(range(*rows.indices(self._steps)))
        return np.logical_or(self._terminated[rows].reshape(steps, -1), self._truncated[rows].reshape(steps, -1))

    def __getitem__(self, index: int) -> tuple:
        if not -self._steps <= index < self._steps:
            raise IndexError(index)
        index %= self._steps
        done = self._done(slice(index, index + 1))[0]
        return self._rewards[index].reshape(-1), done, done

    def fold(self, stats: Mapping[str, Any]) -> dict[str, Any]:
        """``stats`` updated with the steps held, which are then dropped."""
        steps = self._steps
        done = self._done(slice(0, steps))
        self._steps = 0
        return episode_statistics_update_block(np, stats, self._rewards[:steps].reshape(steps, -1), done)


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


def merge_episode_statistics(own: Mapping[str, np.ndarray], every: Iterable[Mapping[str, np.ndarray]]) -> dict:
    """One interval's host statistics over several processes (``every`` includes ``own``): counts and sums add up,
    minima and maxima combine; the per-env running returns stay this process's own."""
    every = [stats for stats in every if stats]
    if not every:
        return dict(own)
    merged = dict(own) if own else dict(every[0])
    for key in merged:
        if key in ("cum_reward", "cum_length"):
            continue
        values = np.stack([np.asarray(stats[key]) for stats in every])
        reduce = np.min if key.endswith("_min") else np.max if key.endswith("_max") else np.sum
        merged[key] = reduce(values, axis=0).astype(np.asarray(merged[key]).dtype)
    return merged


def reset_interval(stats: Mapping[str, Any], fresh: Mapping[str, Any]) -> dict[str, Any]:
    """Start a new interval: keep the per-env running returns, take every aggregate from ``fresh``."""
    return {k: (stats[k] if k in ("cum_reward", "cum_length") else fresh[k]) for k in stats}


# ---- sinks ----------------------------------------------------------------------------------------------


#: ``callback(tag, value, step)`` that also receives the scalars a user writes with ``agent.writer.add_scalar``
ScalarMirror = Callable[[str, float, Optional[int]], None]


class EventFile:
    """One TensorBoard event file, written synchronously: after ``flush()`` every event is in the file.

    tensorboardX's own event writer queues events for a background thread, and its ``flush()`` does not wait for
    that queue, so a crash could lose events that were "flushed". Writing a few dozen scalars per interval
    directly costs microseconds. The file is created exclusively (never overwriting a file of the same second).
    Format: TFRecord (length, masked CRC-32C of the length, data, masked CRC-32C of the data) of ``Event`` protos.
    """

    def __init__(self, logdir: str, filename_suffix: str = "") -> None:
        _import_tensorboardx()
        from tensorboardX.proto.event_pb2 import Event

        os.makedirs(logdir, exist_ok=True)
        self._logdir = logdir
        self._file: Any = _create_event_file(logdir, filename_suffix)
        atexit.register(self.close)
        self.add_event(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event: Any) -> None:
        from tensorboardX.record_writer import masked_crc32c

        if self._file is None:
            return
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._file.write(header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data)))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            atexit.unregister(self.close)

    def reopen(self) -> None:
        """Nothing to do: a closed writer is replaced by a new file on the next write."""


def _create_event_file(logdir: str, suffix: str) -> Any:
    base = os.path.join(logdir, f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}{suffix}")
    for attempt in range(1000):
        try:
            return open(base if not attempt else f"{base}.{attempt}", "xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"Cannot create a new TensorBoard event file in {logdir!r}: {base}.* all exist")


def _import_tensorboardx() -> Any:
    """Import tensorboardX without torch when torch is not loaded yet.

    ``tensorboardX.writer`` imports torch whenever it is installed, only to accept torch tensors: in a JAX process
    that is ~1 s and hundreds of MB for nothing. While tensorboardX loads, ``import torch`` is made to fail (it then
    falls back to NumPy-only type checks); torch stays importable afterwards.
    """
    import sys

    block_torch = "torch" not in sys.modules
    if block_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import tensorboardX
        import tensorboardX.writer  # noqa: F401
    finally:
        if block_torch and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return tensorboardX


def _summary_writer_class() -> Any:
    try:
        tensorboardX = _import_tensorboardx()
        from tensorboardX.proto.summary_pb2 import Summary
    except ImportError as e:  # pragma: no cover - core dependency
        raise ImportError("TensorBoard writing needs tensorboardX: pip install tensorboardX") from e

    class FileWriter(tensorboardX.writer.FileWriter):
        """tensorboardX's ``FileWriter`` on an ``EventFile``.

        This also keeps W&B from tailing our files: ``wandb.init(sync_tensorboard=True)`` swaps
        ``tensorboardX.writer.EventFileWriter`` for a subclass that makes W&B read the event files, and the W&B sink
        already logs our scalars itself (each value would reach W&B twice).
        """

        def __init__(self, logdir: str, filename_suffix: str = "") -> None:
            self.event_writer = EventFile(str(logdir), filename_suffix)
            self._default_metadata = {}

    class SummaryWriter(tensorboardX.SummaryWriter):
        """tensorboardX's writer, keeping scalar tags verbatim (``"Reward / Total reward (mean)"``, as skrl shows them).

        tensorboardX would rewrite spaces and parentheses to underscores; skrl's tags have always had them.
        Scalars a user adds with ``add_scalar`` also go to ``mirror`` (the W&B sink, when there is one).
        """

        mirror: Optional[ScalarMirror] = None

        def _get_file_writer(self) -> Any:
            if self.file_writer is None:
                self.file_writer = FileWriter(self.logdir, self._filename_suffix)
                self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            return self.file_writer

        def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: Any = None,
                       **kwargs: Any) -> None:
            if kwargs.get("display_name") or kwargs.get("summary_description"):
                super().add_scalar(tag, scalar_value, global_step, walltime, **kwargs)
            else:
                self.write_scalar(tag, scalar_value, global_step, walltime)
            if self.mirror is not None:
                self.mirror(tag, _host_float(scalar_value), global_step)

        def write_scalar(self, tag: str, value: Any, step: Any = None, walltime: Any = None) -> None:
            """Write one scalar event (not mirrored: the sinks write their own copies)."""
            self.write_scalars({tag: value}, step, walltime)

        def write_scalars(self, scalars: Mapping[str, Any], step: Any = None, walltime: Any = None) -> None:
            """Write several scalars of one step as one event (one record to encode and checksum instead of one per
            tag; TensorBoard reads every value of an event). Not mirrored."""
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=_host_float(value))
                                     for tag, value in scalars.items()])
            self._get_file_writer().add_summary(summary, step, walltime)

    return SummaryWriter


def _host_float(value: Any) -> float:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return float(np.asarray(value, dtype=np.float64).reshape(()))


class TensorBoardSink:
    """Writes scalars to TensorBoard event files in ``log_dir`` with tensorboardX.

    The writer is created on first use (so a run with tracking off leaves no event file), flushed after every
    write so that a crash loses at most one interval, and ``close()`` is safe to call twice (a later write opens
    a new event file in the same directory).
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self._writer: Any = None
        self._mirror: Optional[ScalarMirror] = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            self._writer = _summary_writer_class()(log_dir=self.log_dir)
            self._writer.mirror = self._mirror
        return self._writer

    def mirror_to(self, mirror: Optional[ScalarMirror]) -> None:
        """Send the scalars a user adds with ``writer.add_scalar`` to ``mirror`` too (None: stop)."""
        self._mirror = mirror
        if self._writer is not None:
            self._writer.mirror = mirror

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        if scalars:
            self.writer.write_scalars(scalars, step)
            self.writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None


def write_to_sinks(sinks: Iterable[Any], scalars: Mapping[str, float], step: int) -> None:
    for sink in sinks:
        sink.write(scalars, step)
