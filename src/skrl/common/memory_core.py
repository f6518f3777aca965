"""Backend-free core of the replay/rollout memories: index bookkeeping, write plans, sampling and mini-batches.

Storage is one array per name of shape ``(memory_size, num_envs, *size)``, used as a ring. Flat row ``i`` of a
tensor's flat view ``(memory_size * num_envs, *size)`` holds step ``i // num_envs`` of env ``i % num_envs``.

``MemoryCore`` is a template: a backend subclass supplies array hooks (``_parse_device``, ``_allocate``,
``_write``, ``_assign``, ``_array_ops``, ``_torch_file_io``, and optionally ``_indexes`` and ``share_memory``).
Everything else (the case analysis of ``add_samples``, the ring indexes, index generation, mini-batch splitting,
export on wrap and ``save``/``load`` through ``skrl.common.memory_files``) is written once here.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional, Sequence

import gymnasium
import numpy as np

from skrl import __version__ as skrl_version
from skrl.common.memory_files import (
    MemoryFileError,
    MemoryFileHeader,
    MemoryMismatchError,
    TensorSpec,
    check_arrays,
    check_memory_fits,
    checked_dtype,
    new_memory_file_path,
    read_memory_file,
    write_memory_file,
)
from skrl.common.spaces import compute_space_size

__all__ = [
    "EXPORT_FORMATS",
    "MemoryCore",
    "RandomMemoryCore",
    "SamplesWrite",
    "parse_export_format",
    "plan_samples_write",
    "random_indexes",
    "sequence_indexes",
    "split_bounds",
]

EXPORT_FORMATS = {"pt": "pt", "npz": "npz", "np": "npz", "csv": "csv"}
"""Accepted ``export_format`` values and the format each means (``"np"`` is an alias of ``"npz"``)."""

Index = tuple  # a basic index into the storage: ints and slices over (memory_size, num_envs)


def parse_export_format(export_format: str) -> str:
    """The canonical export format (``"pt"``, ``"npz"`` or ``"csv"``) for a user's ``export_format``."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(
            f"Invalid export_format: expected one of 'pt', 'npz', 'np', 'csv'. Received: {export_format!r}"
        )
    return EXPORT_FORMATS[export_format]


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Invalid `{name}`: expected a positive int. Received: {name}={value!r}")
    return int(value)


def sequence_indexes(memory_size: int, num_envs: int) -> np.ndarray:
    """All flat rows grouped by env (env-major): ``memory_size=3, num_envs=2`` gives ``[0, 2, 4, 1, 3, 5]``."""
    return np.arange(memory_size * num_envs).reshape(memory_size, num_envs).T.reshape(-1)


def split_bounds(total: int, parts: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of ``parts`` near-equal contiguous pieces of ``total`` rows, as ``np.array_split`` cuts them.

    The first ``total % parts`` pieces take one extra row: ``split_bounds(10, 3)`` gives ``[(0, 4), (4, 7), (7, 10)]``.
    """
    parts = _check_positive_int("mini_batches", parts)
    if parts > total:
        raise ValueError(
            f"Invalid `mini_batches`: cannot split {total} samples into {parts} non-empty mini-batches. "
            f"Received: mini_batches={parts}"
        )
    size, extra = divmod(total, parts)
    bounds, start = [], 0
    for part in range(parts):
        stop = start + size + (1 if part < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


@dataclasses.dataclass(frozen=True)
class SamplesWrite:
    """Where ``add_samples`` writes and the ring position after it.

    ``writes`` holds ``(storage index, slice of the samples or None for all)`` pairs; ``wrapped`` says that the
    write reached the end of the ring (the memory is then filled).
    """

    writes: tuple[tuple[Index, Optional[slice]], ...]
    memory_index: int
    env_index: int
    wrapped: bool


def _ring_writes(count: int, memory_size: int, memory_index: int) -> tuple[tuple[Index, slice], ...]:
    """Write ``count`` consecutive samples of env 0 from ``memory_index``, wrapping (only the last ring's worth kept)."""
    first = max(0, count - memory_size)
    start = (memory_index + first) % memory_size
    head = min(count - first, memory_size - start)
    writes = [((slice(start, start + head), 0), slice(first, first + head))]
    if first + head < count:
        writes.append(((slice(0, count - first - head), 0), slice(first + head, count)))
    return tuple(writes)


def plan_samples_write(
    shape: Sequence[int], memory_size: int, num_envs: int, memory_index: int, env_index: int
) -> SamplesWrite:
    """Plan ``add_samples`` for samples whose reference tensor has ``shape``.

    * ``(num_envs, ...)``: one step of every env, at row ``memory_index``;
    * ``(n < num_envs, ...)``: ``n`` envs of one step, from ``env_index``;
    * ``(n, ...)`` with ``num_envs == 1``: ``n`` consecutive steps, wrapping around the ring;
    * ``(size,)``: one env of one step, at ``(memory_index, env_index)``.
    """
    shape = tuple(shape)
    dim, count = len(shape), (shape[0] if shape else 0)
    wrapped = False
    if dim > 1 and count == num_envs:
        writes, memory_index = (((memory_index,), None),), memory_index + 1
    elif dim > 1 and count < num_envs:
        if env_index + count > num_envs:
            raise ValueError(
                f"Cannot add samples of {count} environments at environment index {env_index}: "
                f"the memory has {num_envs} environments (samples shape: {shape})"
            )
        writes, env_index = (((memory_index, slice(env_index, env_index + count)), None),), env_index + count
    elif dim > 1 and num_envs == 1:
        writes = _ring_writes(count, memory_size, memory_index)
        wrapped = memory_index + count >= memory_size
        memory_index = (memory_index + count) % memory_size
    elif dim == 1:
        writes, env_index = (((memory_index, env_index), None),), env_index + 1
    else:
        raise ValueError(f"Expected shape (number of environments = {num_envs}, data size), got {shape}")
    if env_index >= num_envs:
        env_index, memory_index = 0, memory_index + 1
    if memory_index >= memory_size:
        memory_index, wrapped = 0, True
    return SamplesWrite(writes, memory_index, env_index, wrapped)


def random_indexes(
    size: int, batch_size: int, num_envs: int, sequence_length: int = 1, replacement: bool = True
) -> np.ndarray:
    """Random flat rows among the first ``size``: ``batch_size`` of them, or ``batch_size`` sequences.

    A sequence is ``sequence_length`` consecutive steps of one env (rows ``i, i + num_envs, ...``). Without
    replacement, fewer rows come back when ``size < batch_size``. Uses NumPy's global RNG (seeded by ``set_seed``).
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    sequence_length = _check_positive_int("sequence_length", sequence_length)
    offsets = np.arange(0, num_envs * sequence_length, num_envs)
    starts = size - int(offsets[-1])
    if starts <= 0:
        raise ValueError(
            f"Cannot sample: the memory holds {size} samples, too few for sequences of {sequence_length} steps "
            f"of {num_envs} environments (add samples before sampling)"
        )
    if replacement:
        indexes = np.random.randint(0, starts, (batch_size,))
    else:
        indexes = np.random.permutation(starts)[:batch_size]
    if sequence_length > 1:
        indexes = (indexes[:, None] + offsets).reshape(-1)
    return indexes


def _storage_shape(size: Any, keep_dimensions: bool) -> tuple:
    """Trailing storage shape for ``create_tensor``'s ``size`` (an int, a shape or a gymnasium space)."""
    if not keep_dimensions:
        return (int(compute_space_size(size, occupied_size=True)),)
    if isinstance(size, gymnasium.spaces.Space):
        return tuple(size.shape)
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(s) for s in size)


class MemoryCore:
    """A ring of ``memory_size`` steps of ``num_envs`` environments, one storage array per tensor name.

    Args:
        memory_size: number of steps kept per environment.
        num_envs: number of parallel environments.
        device: device of the storage (parsed by the backend; None: the default device).
        export: export the memory (``save``) each time the ring wraps, before any of its data is overwritten.
        export_format: ``"pt"``, ``"npz"`` (alias ``"np"``) or ``"csv"``; stored in canonical form.
        export_directory: files go to its ``memories`` folder. Empty: the agent's experiment directory once the
            memory belongs to an agent (``attach_to_experiment``), else the working directory.
    """

    #: backend hook: ``to_numpy(array)``, ``numpy_dtype(dtype)`` and ``native_dtype(numpy dtype)``
    _array_ops: Any = None
    #: backend name recorded in exported files
    _backend_name: str = ""

    def __init__(self, memory_size: int, num_envs: int = 1, device: Any = None, export: bool = False,
                 export_format: str = "pt", export_directory: str = "") -> None:
        self.memory_size = _check_positive_int("memory_size", memory_size)
        self.num_envs = _check_positive_int("num_envs", num_envs)
        self.device = self._parse_device(device)
        self.filled = False
        self.env_index = 0
        self.memory_index = 0
        self.tensors: dict[str, Any] = {}
        self.tensors_keep_dimensions: dict[str, bool] = {}
        self.sampling_indexes: Any = None
        self.all_sequence_indexes = sequence_indexes(self.memory_size, self.num_envs)
        self.export = bool(export)
        self.export_format = parse_export_format(export_format)
        self.export_directory = export_directory

    def _parse_device(self, device: Any) -> Any:
        """Backend hook: resolve ``device``."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_parse_device`")

    def _allocate(self, shape: tuple, dtype: Any) -> Any:
        """Backend hook: a new array of ``shape`` (dtype None: float32), NaN-filled if float, else zeros."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_allocate`")

    def _write(self, name: str, index: Index, values: Any) -> None:
        """Backend hook: write ``values`` (broadcast and cast) into ``tensors[name][index]``."""
        self.tensors[name][index] = values

    def _assign(self, name: str, tensor: Any) -> None:
        """Backend hook: replace the content of ``tensors[name]`` with ``tensor`` (broadcast and cast)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_assign`")

    def _store_loaded(self, name: str, array: np.ndarray) -> None:
        """Backend hook: store validated data of the storage shape (default: ``_assign``)."""
        self._assign(name, array)

    def _indexes(self, indexes: np.ndarray) -> Any:
        """Backend hook: flat row indexes as the backend indexes its arrays."""
        return indexes

    def _torch_file_io(self) -> Any:
        """Backend hook: the module whose ``save_array_file``/``load_array_file`` write and read "pt" files."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_torch_file_io`")

    def _export(self) -> None:
        """Called each time the ring wraps when ``export`` is set."""
        self.save(self.export_directory, self.export_format)

    def __getattr__(self, key: str) -> Any:
        """``_tensor_<name>`` reads the storage of ``name`` (skrl 1.4.3 kept each storage as such an attribute)."""
        tensors = self.__dict__.get("tensors", {})
        if key.startswith("_tensor_") and key[len("_tensor_"):] in tensors:
            return tensors[key[len("_tensor_"):]]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def __len__(self) -> int:
        """Number of samples stored (``memory_size * num_envs`` once filled)."""
        if self.filled:
            return self.memory_size * self.num_envs
        return self.memory_index * self.num_envs + self.env_index

    @staticmethod
    def _flat(tensor: Any) -> Any:
        return tensor.reshape(-1, *tensor.shape[2:])

    @property
    def tensors_view(self) -> dict[str, Any]:
        """Flat view ``(memory_size * num_envs, *size)`` of every tensor."""
        return {name: self._flat(tensor) for name, tensor in self.tensors.items()}

    def create_tensor(self, name: str, size: Any, dtype: Any = None, keep_dimensions: bool = False) -> bool:
        """Create the storage of ``name``: ``(memory_size, num_envs, size)``, or ``(..., *size)`` if ``keep_dimensions``.

        ``size`` is an int, a shape or a gymnasium space (reduced to its occupied size unless ``keep_dimensions``).
        A new float tensor is filled with NaN, others with zeros. Returns False, changing nothing, when ``name``
        already exists with the same size (and dtype, if given).
        """
        shape = _storage_shape(size, keep_dimensions)
        if name in self.tensors:
            existing = self.tensors[name]
            old = tuple(existing.shape[2:]) if keep_dimensions else existing.shape[-1]
            if old != (shape if keep_dimensions else shape[-1]):
                raise ValueError(f"Size of tensor {name} ({size}) doesn't match the existing one ({old})")
            if dtype is not None and existing.dtype != dtype:
                raise ValueError(f"Dtype of tensor {name} ({dtype}) doesn't match the existing one ({existing.dtype})")
            return False
        self.tensors[name] = self._allocate((self.memory_size, self.num_envs, *shape), dtype)
        self.tensors_keep_dimensions[name] = bool(keep_dimensions)
        return True

    def add_samples(self, **tensors: Any) -> None:
        """Record samples (one step of all or some envs, or several steps of a single env), by tensor name.

        The layout is read from ``states`` if given, else from the first argument. Unknown names are skipped.
        """
        if not tensors:
            raise ValueError(
                "No samples to be recorded in memory. Pass samples as key-value arguments (where key is the tensor name)"
            )
        reference = "states" if "states" in tensors else next(iter(tensors))
        shape = np.shape(tensors[reference])
        if self.export and self.num_envs == 1 and len(shape) > 1 and shape[0] > self.memory_size - self.memory_index:
            self._add_cycle_by_cycle(tensors, reference, shape[0])
            return
        plan = plan_samples_write(shape, self.memory_size, self.num_envs, self.memory_index, self.env_index)
        for name, values in tensors.items():
            if name in self.tensors:
                for index, source in plan.writes:
                    self._write(name, index, values if source is None else values[source])
        self.memory_index, self.env_index = plan.memory_index, plan.env_index
        if plan.wrapped:
            self.filled = True
            if self.export:
                self._export()

    def _add_cycle_by_cycle(self, tensors: Mapping[str, Any], reference: str, count: int) -> None:
        """Add a run of steps of one env in pieces that end at the ring's end, so that every cycle is exported."""
        kept = {name: values for name, values in tensors.items() if name in self.tensors or name == reference}
        start = 0
        while start < count:
            stop = start + self.memory_size - self.memory_index
            self.add_samples(**{name: values[start:stop] for name, values in kept.items()})
            start = stop

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> list:
        """Sample a batch of ``names`` (implemented by subclasses such as ``RandomMemory``)."""
        raise NotImplementedError("The sampling method (.sample()) is not implemented")

    def sample_by_index(self, names: Sequence[str], indexes: Any, mini_batches: int = 1) -> list[list[Any]]:
        """The rows ``indexes`` of each tensor in ``names``, as ``mini_batches`` lists (contiguous parts of ``indexes``)."""
        views = [self._flat(self.get_tensor_by_name(name)) for name in names]
        parts = [indexes] if mini_batches == 1 else \
            [indexes[start:stop] for start, stop in split_bounds(len(indexes), mini_batches)]
        parts = [self._indexes(part) if isinstance(part, np.ndarray) else part for part in parts]  # converted once
        return [[view[part] for view in views] for part in parts]

    def sample_all(self, names: Sequence[str], mini_batches: int = 1, sequence_length: int = 1) -> list[list[Any]]:
        """All ``memory_size * num_envs`` rows of ``names``, in ``mini_batches`` contiguous parts (none dropped).

        With ``sequence_length > 1`` the rows are ordered by env (``all_sequence_indexes``) before splitting.
        """
        if sequence_length > 1:
            return self.sample_by_index(names, self._indexes(self.all_sequence_indexes), mini_batches)
        views = [self._flat(self.get_tensor_by_name(name)) for name in names]
        if mini_batches == 1:
            return [views]
        total = self.memory_size * self.num_envs
        return [[view[start:stop] for view in views] for start, stop in split_bounds(total, mini_batches)]

    def get_sampling_indexes(self) -> Any:
        """The indexes of the last ``sample`` call (None before any)."""
        return self.sampling_indexes

    def get_tensor_names(self) -> list[str]:
        """Names of the tensors, sorted."""
        return sorted(self.tensors)

    def get_tensor_by_name(self, name: str, keepdim: bool = True) -> Any:
        """The storage of ``name`` ``(memory_size, num_envs, *size)``, or its flat view if ``keepdim`` is False."""
        if name not in self.tensors:
            raise KeyError(f"Unknown tensor name {name!r}: expected one of {self.get_tensor_names()}")
        return self.tensors[name] if keepdim else self._flat(self.tensors[name])

    def set_tensor_by_name(self, name: str, tensor: Any) -> None:
        """Replace the content of ``name`` with ``tensor`` (broadcast to the storage shape and cast to its dtype)."""
        self.get_tensor_by_name(name)
        self._assign(name, tensor)

    def reset(self) -> None:
        """Start writing from the first row again; the data is kept until overwritten."""
        self.filled = False
        self.env_index = 0
        self.memory_index = 0

    def share_memory(self) -> None:
        """Move the storage to shared memory, for multiprocess training (a no-op unless the backend needs it)."""

    # ---- files ---------------------------------------------------------------------------------------------

    def attach_to_experiment(self, experiment_dir: str) -> None:
        """Export into ``<experiment_dir>/memories`` unless ``export_directory`` was given (agents call this)."""
        if not self.export_directory:
            self.export_directory = experiment_dir

    def save(self, directory: str = "", format: str = "pt") -> str:
        """Write every tensor, the fill state and the cursor to ``<directory>/memories/<time>_memory_<id>.<ext>``.

        Args:
            directory: parent of the ``memories`` folder (empty: ``export_directory``).
            format: ``"pt"`` (needs torch), ``"npz"`` (alias ``"np"``) or ``"csv"``.

        Returns:
            The path of the new file, written atomically. Names sort in time order.

        Raises:
            ValueError: unknown ``format``, or a memory without tensors.
            ImportError: ``"pt"`` without torch installed.
        """
        file_format = parse_export_format(format)
        if not self.tensors:
            raise ValueError("Cannot save a memory without tensors: create them with `create_tensor` first")
        path = new_memory_file_path(os.fspath(directory or self.export_directory), id(self), file_format)
        arrays = {name: self._array_ops.to_numpy(tensor) for name, tensor in self.tensors.items()}
        write_memory_file(path, self._file_header(), arrays, self._save_pt)
        return path

    def load(self, path: str) -> None:
        """Restore the tensors, fill state and cursor from a file of ``save`` (either backend, any format).

        A memory without tensors creates them from the file (names, shapes, dtypes). A memory with tensors must
        have the same names and shapes, and the saved dtypes must cast to its own without loss; otherwise
        ``MemoryMismatchError`` lists every difference. The data lands on the memory's device.

        Args:
            path: a ``.pt``, ``.npz`` or ``.csv`` file (files of skrl 1.4.3 in ``.pt``/``.npz`` load as filled).

        Raises:
            MemoryFileError: unknown extension, corrupt or truncated file, or one that would need to run code.
            MemoryMismatchError: the file does not fit the memory; the memory is left unchanged.
        """
        path, before = os.fspath(path), set(self.tensors)
        try:
            header, arrays = read_memory_file(path, self._load_pt, check=lambda saved: self._prepare_load(saved, path))
        except BaseException:
            for name in set(self.tensors) - before:
                del self.tensors[name], self.tensors_keep_dimensions[name]
            raise
        for name in list(arrays):
            self._store_loaded(name, arrays.pop(name))  # frees each host copy as soon as it is stored
        self.filled, self.memory_index, self.env_index = header.filled, header.memory_index, header.env_index

    def checkpoint_state(self) -> dict[str, Any]:
        """The memory as host data for an agent checkpoint: ``{"header": <json>, "tensors": {name: array}}``."""
        return {"header": self._file_header().to_json(),
                "tensors": {name: self._array_ops.to_numpy(tensor) for name, tensor in self.tensors.items()}}

    def check_checkpoint_state(self, state: Mapping[str, Any], path: str) -> list[str]:
        """Every reason ``state`` (from ``checkpoint_state``) cannot be restored into this memory (empty: it can)."""
        try:
            header = MemoryFileHeader.from_json(str(state["header"]), path)
            check_arrays(header, {k: np.asarray(v) for k, v in dict(state["tensors"]).items()}, path)
            if self.tensors:
                check_memory_fits(header, self._tensor_specs(), self.memory_size, self.num_envs, path)
        except (MemoryFileError, MemoryMismatchError) as e:
            return [str(e)]
        except (KeyError, TypeError, ValueError) as e:
            return [f"the checkpoint's memory entry is malformed ({e!r})"]
        return []

    def restore_checkpoint_state(self, state: Mapping[str, Any], path: str) -> None:
        """Restore tensors, fill state and cursor (validate with ``check_checkpoint_state`` first)."""
        header = MemoryFileHeader.from_json(str(state["header"]), path)
        self._prepare_load(header, path)
        for name, array in dict(state["tensors"]).items():
            self._store_loaded(name, np.asarray(array))
        self.filled, self.memory_index, self.env_index = header.filled, header.memory_index, header.env_index

    def _prepare_load(self, saved: MemoryFileHeader, path: str) -> None:
        if not self.tensors:
            for spec in saved.tensors:
                keep = spec.keep_dimensions or len(spec.shape) != 1
                self.create_tensor(spec.name, spec.shape if keep else spec.shape[0],
                                   dtype=self._array_ops.native_dtype(spec.dtype), keep_dimensions=keep)
        check_memory_fits(saved, self._tensor_specs(), self.memory_size, self.num_envs, path)

    def _tensor_specs(self) -> tuple[TensorSpec, ...]:
        return tuple(TensorSpec(name, tuple(tensor.shape[2:]),
                                checked_dtype(self._array_ops.numpy_dtype(tensor.dtype), name).name,
                                self.tensors_keep_dimensions.get(name, False))
                     for name, tensor in sorted(self.tensors.items()))

    def _file_header(self) -> MemoryFileHeader:
        return MemoryFileHeader(self.memory_size, self.num_envs, self.filled, self.memory_index, self.env_index,
                                self._tensor_specs(), self._backend_name, skrl_version)

    def _save_pt(self, path: str, entries: Mapping[str, Any]) -> None:
        self._torch_file_io().save_array_file(path, entries)

    def _load_pt(self, path: str) -> Mapping[str, Any]:
        return self._torch_file_io().load_array_file(path)


class RandomMemoryCore(MemoryCore):
    """A memory sampled uniformly at random, with or without ``replacement``."""

    def __init__(self, memory_size: int, num_envs: int = 1, device: Any = None, export: bool = False,
                 export_format: str = "pt", export_directory: str = "", replacement: bool = True) -> None:
        super().__init__(memory_size, num_envs, device, export, export_format, export_directory)
        self._replacement = replacement

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1) -> list:
        """Sample ``batch_size`` random rows (or sequences of ``sequence_length`` steps of one env) of ``names``.

        Returns a list of ``mini_batches`` lists of arrays (one per name); the indexes are kept in
        ``sampling_indexes``.
        """
        indexes = random_indexes(len(self), batch_size, self.num_envs, sequence_length, self._replacement)
        self.sampling_indexes = self._indexes(indexes)
        return self.sample_by_index(names, self.sampling_indexes, mini_batches)
