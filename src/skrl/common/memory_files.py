"""Memory files, written once for both backends: names, the self-describing header, npz and "pt" layouts, checks.

A memory file holds every tensor at its storage shape ``(memory_size, num_envs, *size)`` plus a header (JSON)
with the tensors' names, shapes and dtypes, the fill state and the write cursor. Formats:

* ``"pt"``: ``torch.save`` of ``{name: tensor, METADATA_KEY: header JSON}`` (skrl 1.4.3 loaders read the tensors
  and skip the extra entry). Serialising needs torch, so the backend passes the reader/writer in.
* ``"npz"``: an uncompressed NumPy zip archive, one ``.npy`` member per tensor plus ``METADATA_KEY`` (a 0-d
  string array), written member by member in chunks. Read with ``allow_pickle=False``.
* ``"csv"``: see ``skrl.common.memory_csv``.

Arrays cross this module as NumPy arrays; every write is atomic (temporary sibling, fsync, rename).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import zipfile
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from skrl.common.atomic_files import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "MEMORY_FILE_FORMATS",
    "MEMORIES_SUBDIR",
    "METADATA_KEY",
    "MemoryFileError",
    "MemoryFileHeader",
    "MemoryMismatchError",
    "TensorSpec",
    "check_memory_fits",
    "file_format_of",
    "memory_file_name",
    "new_memory_file_path",
    "read_memory_file",
    "write_memory_file",
]

MEMORY_FILE_FORMATS = ("pt", "npz", "csv")
"""File formats (and file extensions) of exported memories."""

MEMORIES_SUBDIR = "memories"
FORMAT_VERSION = 1
METADATA_KEY = "__skrl_memory__"
"""Entry (pt, npz) holding the header JSON; no tensor may have this name."""

_NPY_CHUNK_BYTES = 1 << 20
_DTYPE_KINDS = "biuf"  # bool, signed and unsigned ints, floats: the dtypes every format stores exactly
_last_stamp = [datetime.datetime.min]

#: ``load_pt(path) -> {name: np.ndarray or str}``, ``save_pt(path, {name: np.ndarray or str})``
PtReader = Callable[[str], Mapping[str, Any]]
PtWriter = Callable[[str, Mapping[str, Any]], None]


class MemoryFileError(ValueError):
    """A memory file is of an unknown format, corrupt or truncated, or cannot hold the memory; re-export it."""


class MemoryMismatchError(ValueError):
    """A memory file does not fit the memory it is loaded into: the message lists every name, shape and dtype
    difference. Build the memory with the file's ``memory_size``/``num_envs`` (or load into a fresh memory)."""


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One stored tensor: its name, trailing shape ``size`` (storage is ``(memory_size, num_envs, *shape)``) and dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    keep_dimensions: bool = False

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "keep_dimensions": self.keep_dimensions}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TensorSpec":
        shape = tuple(int(s) for s in data["shape"])
        return cls(str(data["name"]), shape, checked_dtype(data["dtype"], str(data["name"])).name,
                   bool(data.get("keep_dimensions", len(shape) > 1)))


@dataclasses.dataclass(frozen=True)
class MemoryFileHeader:
    """What a memory file says about itself: ring size, fill state, write cursor and tensors (sorted by name)."""

    memory_size: int
    num_envs: int
    filled: bool
    memory_index: int
    env_index: int
    tensors: tuple[TensorSpec, ...]
    backend: str = ""
    skrl_version: str = ""
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.memory_size < 1 or self.num_envs < 1:
            raise MemoryFileError(f"Invalid memory size in header: {self.memory_size=}, {self.num_envs=}")
        if not (0 <= self.memory_index < self.memory_size and 0 <= self.env_index < self.num_envs):
            raise MemoryFileError(f"Invalid write cursor in header: {self.memory_index=}, {self.env_index=} "
                                  f"(memory_size={self.memory_size}, num_envs={self.num_envs})")

    @property
    def rows(self) -> int:
        """Number of flat rows ``memory_size * num_envs``."""
        return self.memory_size * self.num_envs

    def storage_shape(self, spec: TensorSpec) -> tuple[int, ...]:
        return (self.memory_size, self.num_envs, *spec.shape)

    def to_json(self) -> str:
        data = {"format": "skrl-memory", **dataclasses.asdict(self)}
        data["tensors"] = [spec.to_dict() for spec in self.tensors]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, path: str) -> "MemoryFileHeader":
        """Parse and validate a header; a malformed one raises ``MemoryFileError`` naming ``path``."""
        try:
            data = json.loads(text)
            if data.get("format") != "skrl-memory" or int(data["format_version"]) > FORMAT_VERSION:
                raise ValueError(f"not a skrl memory header of format version <= {FORMAT_VERSION}")
            tensors = tuple(TensorSpec.from_dict(spec) for spec in data["tensors"])
            return cls(int(data["memory_size"]), int(data["num_envs"]), bool(data["filled"]),
                       int(data["memory_index"]), int(data["env_index"]), tensors, str(data.get("backend", "")),
                       str(data.get("skrl_version", "")), int(data["format_version"]))
        except MemoryFileError as e:
            raise MemoryFileError(f"Cannot read memory file {path!r}: {e}") from None
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise MemoryFileError(f"Cannot read memory file {path!r}: its header is corrupt ({e!r})") from None

    @classmethod
    def infer(cls, arrays: Mapping[str, np.ndarray], path: str) -> "MemoryFileHeader":
        """The header of a file without one (skrl 1.4.3 exported on wrap: filled, cursor at 0)."""
        shapes = {tuple(array.shape[:2]) for array in arrays.values()}
        if len(shapes) != 1 or any(array.ndim < 3 for array in arrays.values()):
            found = {name: tuple(array.shape) for name, array in arrays.items()}
            raise MemoryFileError(f"Cannot read memory file {path!r}: expected arrays of shape (memory_size, "
                                  f"num_envs, size...) sharing their first two dimensions. Found: {found}")
        memory_size, num_envs = shapes.pop()
        specs = tuple(TensorSpec(name, tuple(array.shape[2:]), checked_dtype(array.dtype, name).name, array.ndim > 3)
                      for name, array in sorted(arrays.items()))
        return cls(memory_size, num_envs, True, 0, 0, specs, format_version=0)


def checked_dtype(dtype: Any, name: str) -> np.dtype:
    """``dtype`` as a NumPy dtype if memory files store it (bool, ints, floats), else a ``MemoryFileError``."""
    try:
        parsed = np.dtype(dtype)
    except TypeError:
        parsed = None
    if parsed is None or parsed.kind not in _DTYPE_KINDS or parsed.itemsize > 8:
        raise MemoryFileError(f"Unsupported dtype of tensor {name!r}: expected bool, an int or a float "
                              f"(float16/32/64). Received: dtype={dtype!r}")
    return parsed


def file_format_of(path: str) -> str:
    """The format of a memory file from its extension: ``"a/b.npz"`` gives ``"npz"``."""
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if extension not in MEMORY_FILE_FORMATS:
        raise MemoryFileError(f"Unsupported memory file format: expected a path ending in one of "
                              f"{', '.join('.' + f for f in MEMORY_FILE_FORMATS)}. Received: {path!r}")
    return extension


def memory_file_name(memory_id: int, file_format: str, now: Optional[datetime.datetime] = None) -> str:
    """skrl's export file name: ``memory_file_name(0x7f12, "npz", datetime(2025, 1, 31, 12, 0, 0, 5))`` gives
    ``"25-01-31_12-00-00-000005_memory_0x7f12.npz"`` (names sort in time order)."""
    now = now or datetime.datetime.now()
    return f"{now:%y-%m-%d_%H-%M-%S-%f}_memory_{hex(memory_id)}.{file_format}"


def new_memory_file_path(directory: str, memory_id: int, file_format: str) -> str:
    """A fresh path ``<directory>/memories/<time>_memory_<id>.<format>``, later in time than any given before."""
    folder = os.path.join(directory, MEMORIES_SUBDIR)
    now = max(datetime.datetime.now(), _last_stamp[0] + datetime.timedelta(microseconds=1))
    while os.path.exists(os.path.join(folder, memory_file_name(memory_id, file_format, now))):
        now += datetime.timedelta(microseconds=1)
    _last_stamp[0] = now
    return os.path.join(folder, memory_file_name(memory_id, file_format, now))


def check_memory_fits(saved: MemoryFileHeader, expected: Sequence[TensorSpec], memory_size: int, num_envs: int,
                      path: str) -> None:
    """Raise one ``MemoryMismatchError`` listing every difference between a file and the memory's tensors.

    A dtype differs when the saved values cannot be cast safely (without loss) to the memory's dtype.
    """
    saved_specs = {spec.name: spec for spec in saved.tensors}
    live = {spec.name: spec for spec in expected}
    problems = []
    if (saved.memory_size, saved.num_envs) != (memory_size, num_envs):
        problems.append(f"memory_size, num_envs: saved ({saved.memory_size}, {saved.num_envs}) → memory "
                        f"({memory_size}, {num_envs})")
    if sorted(set(live) - set(saved_specs)):
        problems.append(f"missing in the file: {sorted(set(live) - set(saved_specs))}")
    if sorted(set(saved_specs) - set(live)):
        problems.append(f"not in the memory: {sorted(set(saved_specs) - set(live))}")
    for name in sorted(set(live) & set(saved_specs)):
        old, new = saved_specs[name], live[name]
        if old.shape != new.shape:
            problems.append(f"{name}: saved shape {saved.storage_shape(old)} → expected "
                            f"{(memory_size, num_envs, *new.shape)}")
        if not np.can_cast(np.dtype(old.dtype), np.dtype(new.dtype), "safe"):
            problems.append(f"{name}: saved dtype {old.dtype} → expected {new.dtype} (not a lossless cast)")
    if problems:
        raise MemoryMismatchError(f"Memory file {path!r} does not fit this memory:\n  " + "\n  ".join(problems))


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn the low-level errors of reading ``path`` into ``MemoryFileError`` (a missing file stays as it is)."""
    try:
        yield
    except (FileNotFoundError, MemoryFileError, MemoryMismatchError):
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise MemoryFileError(f"Cannot read memory file {path!r}: the file is corrupt or truncated ({e})") from None


def check_arrays(header: MemoryFileHeader, arrays: Mapping[str, np.ndarray], path: str) -> None:
    """The data must be what the header announces (catches files edited or damaged after writing)."""
    for spec in header.tensors:
        array = arrays.get(spec.name)
        if array is None or tuple(array.shape) != header.storage_shape(spec) or array.dtype != np.dtype(spec.dtype):
            found = None if array is None else (tuple(array.shape), str(array.dtype))
            raise MemoryFileError(f"Cannot read memory file {path!r}: tensor {spec.name!r} should be "
                                  f"{header.storage_shape(spec)} {spec.dtype} as its header says. Found: {found}")


def _write_npy(file: BinaryIO, array: np.ndarray) -> None:
    """One ``.npy`` stream, its data written in ``_NPY_CHUNK_BYTES`` slices of the array itself (no copy)."""
    array = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    np.lib.format.write_array_header_1_0(file, np.lib.format.header_data_from_array_1_0(array))
    data = memoryview(array.reshape(-1).view(np.uint8))
    for start in range(0, len(data), _NPY_CHUNK_BYTES):
        file.write(data[start:start + _NPY_CHUNK_BYTES])


def _write_npz(path: str, header: MemoryFileHeader, arrays: Mapping[str, np.ndarray]) -> None:
    """An uncompressed npz archive (what ``np.savez`` writes), member by member, chunk by chunk."""
    with atomic_write(path) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in [(METADATA_KEY, np.array(header.to_json())), *sorted(arrays.items())]:
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                _write_npy(member, array)


def _read_npz(path: str, check: Callable[[MemoryFileHeader], None]) -> tuple[MemoryFileHeader, dict]:
    with _reading(path), np.load(path, allow_pickle=False) as archive:
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise MemoryFileError(f"Cannot read memory file {path!r}: it is not an npz archive")
        names = [name for name in archive.files if name != METADATA_KEY]
        if METADATA_KEY in archive.files:
            header = MemoryFileHeader.from_json(str(archive[METADATA_KEY]), path)
            check(header)
            return header, {name: archive[name] for name in names}
        arrays = {name: archive[name] for name in names}
    header = MemoryFileHeader.infer(arrays, path)
    check(header)
    return header, arrays


def _read_pt(path: str, load_pt: PtReader, check: Callable[[MemoryFileHeader], None]) -> tuple[MemoryFileHeader, dict]:
    entries = load_pt(path)
    if not isinstance(entries, Mapping):
        raise MemoryFileError(f"Cannot read memory file {path!r}: expected a dict of tensors. Found: {type(entries)}")
    arrays = {name: value for name, value in entries.items() if name != METADATA_KEY}
    if any(not isinstance(value, np.ndarray) for value in arrays.values()):
        raise MemoryFileError(f"Cannot read memory file {path!r}: every entry but {METADATA_KEY!r} must be a tensor")
    if METADATA_KEY in entries:
        header = MemoryFileHeader.from_json(str(entries[METADATA_KEY]), path)
    else:
        header = MemoryFileHeader.infer(arrays, path)
    check(header)
    return header, arrays


def write_memory_file(path: str, header: MemoryFileHeader, arrays: Mapping[str, np.ndarray],
                      save_pt: Optional[PtWriter] = None) -> None:
    """Write ``arrays`` (storage shape, as NumPy) and ``header`` to ``path`` in the format of its extension."""
    file_format = file_format_of(path)
    if METADATA_KEY in arrays:
        raise MemoryFileError(f"Cannot export a tensor named {METADATA_KEY!r}: the name is reserved for the header")
    check_arrays(header, arrays, path)
    if file_format == "npz":
        _write_npz(path, header, arrays)
    elif file_format == "csv":
        from skrl.common.memory_csv import write_csv

        with atomic_write(path) as file:
            write_csv(file, header, arrays)
    else:
        if save_pt is None:
            raise MemoryFileError("The 'pt' memory format needs a torch writer; none was given")
        save_pt(path, {**dict(sorted(arrays.items())), METADATA_KEY: header.to_json()})


def read_memory_file(path: str, load_pt: Optional[PtReader] = None,
                     check: Optional[Callable[[MemoryFileHeader], None]] = None) -> tuple[MemoryFileHeader, dict]:
    """Read a memory file: ``(header, {name: array of storage shape})``. Never unpickles.

    ``check(header)`` runs once the header is known and before the bulk of the data is read (npz, csv), so that a
    file that does not fit is refused early. ``load_pt`` reads "pt" files (it needs torch).
    """
    file_format = file_format_of(path)
    check = check or (lambda header: None)
    if file_format == "npz":
        header, arrays = _read_npz(path, check)
    elif file_format == "csv":
        from skrl.common.memory_csv import read_csv

        with _reading(path), open(path, "rb") as file:
            header, arrays = read_csv(file, path, check)
    else:
        if load_pt is None:
            raise MemoryFileError("The 'pt' memory format needs a torch reader; none was given")
        header, arrays = _read_pt(path, load_pt, check)
    check_arrays(header, arrays, path)
    extra = sorted(set(arrays) - {spec.name for spec in header.tensors})
    if extra:
        raise MemoryFileError(f"Cannot read memory file {path!r}: tensors {extra} are not in its header")
    return header, arrays
