"""The "csv" memory file: self-describing text that keeps shapes and dtypes, written and read in row chunks.

Layout (``num_envs=2``, ``states`` of shape ``(2,)`` float32 and ``terminated`` bool)::

    #skrl-memory {"format":"skrl-memory","memory_size":3,"num_envs":2,...,"tensors":[...]}
    states.0,states.1,terminated.0
    5e-01,-1.25e+00,False
    ...

The first line is the header JSON (names, shapes, dtypes, fill state, cursor). The second names the columns
(``<name>.<i>`` for each flattened element, as skrl 1.4.3 did). Then come ``memory_size * num_envs`` rows, where
row ``i`` holds step ``i // num_envs`` of env ``i % num_envs``. Floats are written with enough digits to round-trip
exactly (float16/32 in scientific notation, ``nan``, ``inf`` and ``-0`` included), booleans as ``True``/``False``,
ints in decimal. Text is produced by NumPy on whole chunks of rows (no Python loop per row or value).
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Mapping

import numpy as np

from skrl.common.memory_files import MemoryFileError, MemoryFileHeader, TensorSpec

__all__ = ["CSV_MAGIC", "csv_columns", "format_csv_rows", "read_csv", "write_csv"]

CSV_MAGIC = "#skrl-memory "
CSV_CHUNK_VALUES = 1 << 16
"""Values formatted (or parsed) per chunk: bounds the extra RAM of the text conversion (this size is fastest)."""

_DIGITS = {2: 5, 4: 9}  # significant digits that round-trip float16 and float32
_POW10 = 10.0 ** np.arange(-64, 64)  # _POW10[k + 64] == 10**k
_BOOL_TOKENS = {"true": True, "false": False, "1": True, "0": False}


def _width(spec: TensorSpec) -> int:
    return int(np.prod(spec.shape, dtype=np.int64))


def csv_columns(header: MemoryFileHeader) -> list[str]:
    """Column names: ``<name>.<i>`` for each flattened element of each tensor, e.g. ``["states.0", "states.1"]``."""
    return [f"{spec.name}.{i}" for spec in header.tensors for i in range(_width(spec))]


def _float_planes(values: np.ndarray, digits: int) -> np.ndarray:
    """Text of float16/float32 ``values`` (1-D) in scientific notation with ``digits`` significant digits.

    Returns ``(width, n)`` ASCII bytes, one plane per character position and NUL where a text is shorter:
    ``0.5`` gives ``5e-01``, ``-1.25`` gives ``-1.25e+00``, then ``0``, ``-0``, ``nan``, ``inf``, ``-inf``.
    Computed with NumPy on whole arrays: float64 arithmetic is exact enough for 9 digits.
    """
    magnitude = np.abs(values.astype(np.float64))
    regular = np.isfinite(magnitude) & (magnitude > 0)
    magnitude[~regular] = 1.0
    exponent = np.floor(np.log10(magnitude)).astype(np.int32)
    mantissa = np.rint(magnitude * _POW10[digits - 1 - exponent + 64])
    off = (mantissa < 10 ** (digits - 1)) | (mantissa >= 10 ** digits)  # log10 rounded across a power of 10
    if off.any():
        exponent[off] += np.where(mantissa[off] < 10 ** (digits - 1), -1, 1).astype(np.int32)
        mantissa[off] = np.rint(magnitude[off] * _POW10[digits - 1 - exponent[off] + 64])
    mantissa = mantissa.astype(np.uint32)
    planes = np.zeros((digits + 6, len(values)), np.uint8)
    planes[0] = np.signbit(values) * 45
    fraction = np.zeros(len(values), bool)  # a nonzero digit at or after this position: keep it
    for position in range(digits - 1, 0, -1):
        quotient = mantissa // 10
        digit = (mantissa - quotient * 10).astype(np.uint8)
        fraction |= digit != 0
        planes[2 + position] = (digit + 48) * fraction
        mantissa = quotient
    planes[1], planes[2], planes[digits + 2] = mantissa + 48, fraction * 46, 101
    planes[digits + 3] = np.where(exponent < 0, 45, 43)
    planes[digits + 4], planes[digits + 5] = np.abs(exponent) // 10 + 48, np.abs(exponent) % 10 + 48
    special = np.flatnonzero(~regular)
    if special.size:
        text = np.where(np.isnan(values[special]), b"nan", np.where(np.isinf(values[special]), b"inf", b"0"))
        planes[1:, special] = 0
        planes[1:4, special] = text.astype("S3").view(np.uint8).reshape(-1, 3).T
        planes[0, special[np.isnan(values[special])]] = 0
    return planes


def _text_planes(values: np.ndarray) -> np.ndarray:
    """``(width, n)`` ASCII planes of bools (``True``/``False``), ints, and float64 (NumPy's shortest repr)."""
    if values.dtype.kind == "f" and values.dtype.itemsize in _DIGITS:
        return _float_planes(values, _DIGITS[values.dtype.itemsize])
    if values.dtype.kind == "b":
        text = np.where(values, b"True", b"False")
    else:
        text = values.astype("S32" if values.dtype.kind == "f" else "S21")
    return text.view(np.uint8).reshape(len(values), -1).T


def format_csv_rows(blocks: list[np.ndarray]) -> bytes:
    """Rows of text for ``blocks`` (one ``(rows, columns)`` array per tensor), all in vectorised NumPy.

    Every column becomes character planes (``_text_planes``) laid into one byte table with the separators; the
    table is read out row by row and its NUL padding dropped. No Python code runs per row or per value.
    """
    rows = blocks[0].shape[0]
    parts = []
    for block in blocks:
        planes = _text_planes(np.ascontiguousarray(block.T).reshape(-1))
        width, columns = planes.shape[0], block.shape[1]
        part = np.zeros((columns, width + 1, rows), np.uint8)
        part[:, :width] = planes.reshape(width, columns, rows).transpose(1, 0, 2)
        part[:, width] = 44
        parts.append(part.reshape(-1, rows))
    table = np.concatenate(parts)
    table[-1] = 10
    return table.tobytes(order="F").replace(b"\0", b"")


def write_csv(file: BinaryIO, header: MemoryFileHeader, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the header lines, then every row in chunks of about ``CSV_CHUNK_VALUES`` values."""
    for spec in header.tensors:
        if any(c in spec.name for c in ',"\r\n'):
            raise MemoryFileError(f"Cannot export tensor {spec.name!r} to csv: names may not hold commas, quotes "
                                  "or line breaks")
    specs = [spec for spec in header.tensors if _width(spec)]
    file.write(f"{CSV_MAGIC}{header.to_json()}\n{','.join(csv_columns(header))}\n".encode())
    if not specs:
        return
    flat = [arrays[spec.name].reshape(header.rows, -1) for spec in specs]
    step = max(1, CSV_CHUNK_VALUES // sum(block.shape[1] for block in flat))
    for start in range(0, header.rows, step):
        file.write(format_csv_rows([block[start:start + step] for block in flat]))


def _parse_bool(token: str) -> bool:
    try:
        return _BOOL_TOKENS[token.strip().lower()]
    except KeyError:
        raise ValueError(f"expected True or False, got {token!r}") from None


def _read_header(file: BinaryIO, path: str) -> MemoryFileHeader:
    first = file.readline().decode("utf-8", errors="replace")
    if not first.startswith(CSV_MAGIC):
        raise MemoryFileError(f"Cannot read memory file {path!r}: its first line is not a '{CSV_MAGIC.strip()}' "
                              "header (csv files of skrl 1.4.3 lack shapes and dtypes and cannot be imported)")
    header = MemoryFileHeader.from_json(first[len(CSV_MAGIC):], path)
    columns = file.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    if columns != ",".join(csv_columns(header)):
        raise MemoryFileError(f"Cannot read memory file {path!r}: its column names do not match its header")
    return header


def _row_dtype(header: MemoryFileHeader) -> tuple[np.dtype, dict]:
    """One structured field per tensor (its flattened elements) and the bool columns' converters."""
    fields, converters, column = [], {}, 0
    for spec in header.tensors:
        if _width(spec):
            fields.append((spec.name, np.dtype(spec.dtype), (_width(spec),)))
            if np.dtype(spec.dtype).kind == "b":
                converters.update({c: _parse_bool for c in range(column, column + _width(spec))})
            column += _width(spec)
    return np.dtype(fields), converters


def read_csv(file: BinaryIO, path: str, check: Callable[[MemoryFileHeader], None]) -> tuple[MemoryFileHeader, dict]:
    """Read a file written by ``write_csv``: ``check(header)`` first, then the rows in chunks into one buffer each."""
    header = _read_header(file, path)
    check(header)
    buffers = {spec.name: np.zeros((header.rows, _width(spec)), np.dtype(spec.dtype)) for spec in header.tensors}
    row_dtype, converters = _row_dtype(header)
    chunk_bytes = CSV_CHUNK_VALUES * 16  # about 15 characters per value
    row = 0
    while row_dtype.names and (lines := file.readlines(chunk_bytes)):
        if not lines[-1].endswith(b"\n") or row + len(lines) > header.rows:
            break
        table = np.loadtxt(lines, delimiter=",", dtype=row_dtype, converters=converters, comments=None, ndmin=1)
        for name in row_dtype.names:
            buffers[name][row:row + len(lines)] = table[name]
        row += len(lines)
    if row_dtype.names and (row != header.rows or file.read(1)):
        raise MemoryFileError(f"Cannot read memory file {path!r}: it is truncated or has extra lines (expected "
                              f"{header.rows} complete rows)")
    return header, {spec.name: buffers[spec.name].reshape(header.storage_shape(spec)) for spec in header.tensors}
