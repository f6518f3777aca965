"""Orbax checkpoint writes in a helper process, so that they cost the training process (almost) nothing.

An orbax save of a small agent costs ~40-100 ms of CPU, mostly orbax's own machinery (event loops, threads,
metadata), and in the training process that work competes with training for the interpreter lock: measured on
PPO CartPole (14 saves in 100k transitions), training ran 8-14% slower with checkpoints than without, and ~0%
slower with a trivial writer. The background checkpoint thread therefore hands each host copy of the state to one
helper process (``python -m skrl.jax.checkpoint_worker``, CPU only) and waits for its answer; the helper writes the
same orbax directory, through ``checkpoint_io.save_state`` (temporary name, then rename).

Requests carry no pickles: a JSON description of the tree and an ``.npz`` of its arrays (read with
``allow_pickle=False``). If the helper cannot start or dies, saves fall back to this process (nothing is lost).
Set ``SKRL_JAX_CHECKPOINT_PROCESS=0`` to always write in-process. The helper keeps the training process's priority
(see ``skrl.common.background_writer``: a lower one only postpones writes on a busy machine).
"""

from __future__ import annotations

import atexit
import io
import json
import os
import struct
import subprocess
import sys
import threading
from typing import Any, BinaryIO, Optional

import numpy as np

from skrl._logging import logger
from skrl.common.environment_flags import switched_off

ENVIRONMENT_VARIABLE = "SKRL_JAX_CHECKPOINT_PROCESS"
_LENGTH = struct.Struct("<Q")


class UnsupportedLeafError(TypeError):
    """A state leaf the request format does not carry (the save then runs in-process)."""


# ---- request format --------------------------------------------------------------------------------------------

def _describe(node: Any, arrays: list) -> Any:
    if isinstance(node, dict):
        if not all(isinstance(key, str) for key in node):
            raise UnsupportedLeafError("dict keys must be strings")
        return {"dict": {key: _describe(value, arrays) for key, value in node.items()}}
    if isinstance(node, (list, tuple)):
        return {"list" if isinstance(node, list) else "tuple": [_describe(value, arrays) for value in node]}
    if isinstance(node, np.ndarray):
        if node.dtype.hasobject:
            raise UnsupportedLeafError("object arrays")
        arrays.append(node)
        return {"array": len(arrays) - 1}
    if node is None or isinstance(node, (bool, int, float, str)):
        return {"value": node}
    raise UnsupportedLeafError(f"leaf of type {type(node).__name__}")


def _build(description: Any, arrays: Any) -> Any:
    (kind, content), = description.items()
    if kind == "dict":
        return {key: _build(value, arrays) for key, value in content.items()}
    if kind in ("list", "tuple"):
        items = [_build(value, arrays) for value in content]
        return items if kind == "list" else tuple(items)
    if kind == "array":
        return arrays[f"a{content}"]
    return content


def encode_request(state: Any, path: str) -> tuple[bytes, bytes]:
    """``(header, payload)``: JSON with the path and the tree, and an ``.npz`` of the arrays (host NumPy arrays;
    raises ``UnsupportedLeafError`` for anything else than dicts, lists, tuples, arrays and plain values)."""
    arrays: list = []
    header = json.dumps({"path": path, "tree": _describe(state, arrays)}).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": array for i, array in enumerate(arrays)})
    return header, buffer.getvalue()


def decode_request(header: bytes, payload: bytes) -> tuple[Any, str]:
    request = json.loads(header)
    with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
        loaded = {name: arrays[name] for name in arrays.files}
    return _build(request["tree"], loaded), request["path"]


def _write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)


def _read_frame(stream: BinaryIO) -> Optional[bytes]:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


# ---- the parent's side -----------------------------------------------------------------------------------------

class CheckpointWorker:
    """One helper process; ``save`` blocks the calling (checkpoint) thread until the helper has written ``path``."""

    def __init__(self) -> None:
        environment = {**os.environ, "JAX_PLATFORMS": "cpu", ENVIRONMENT_VARIABLE: "0"}
        self._process = subprocess.Popen([sys.executable, "-m", "skrl.jax.checkpoint_worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=environment)
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._process.pid

    def save(self, state: Any, path: str) -> None:
        """Write ``state`` (host arrays) to ``path``; ``OSError``/``ValueError`` as the in-process save raises them,
        ``BrokenPipeError`` if the helper is gone."""
        header, payload = encode_request(state, path)
        with self._lock:
            try:
                _write_frame(self._process.stdin, header)
                _write_frame(self._process.stdin, payload)
                self._process.stdin.flush()
                reply = _read_frame(self._process.stdout)
            except (BrokenPipeError, OSError) as e:
                raise BrokenPipeError(f"the checkpoint helper process stopped ({e})") from None
        if reply is None:
            raise BrokenPipeError(f"the checkpoint helper process stopped (exit code {self._process.poll()})")
        answer = json.loads(reply)
        if answer["error"]:
            error = {"FileExistsError": FileExistsError, "PermissionError": PermissionError}.get(answer["type"], OSError)
            raise error(answer["error"])

    def close(self) -> None:
        with self._lock:
            if self._process.poll() is None:
                try:
                    self._process.stdin.close()
                    self._process.wait(timeout=30)
                except (OSError, subprocess.TimeoutExpired):
                    self._process.kill()


_worker: Optional[CheckpointWorker] = None
_failed = False
_start_lock = threading.Lock()


def enabled() -> bool:
    return not switched_off(ENVIRONMENT_VARIABLE)


def worker() -> Optional[CheckpointWorker]:
    """The helper process, started on first use (None when disabled or if it could not start)."""
    global _worker, _failed
    with _start_lock:
        if _worker is None and not _failed and enabled():
            try:
                _worker = CheckpointWorker()
                atexit.register(_worker.close)
            except OSError as e:
                _failed = True
                logger.warning(f"Checkpoints are written in the training process: the helper did not start ({e})")
        return _worker


def save_state(state: Any, path: str) -> None:
    """``checkpoint_io.save_state`` of a host state, done by the helper process when it runs (else here)."""
    global _worker, _failed
    from skrl.jax import checkpoint_io

    helper = worker()
    if helper is not None:
        try:
            helper.save(state, path)
            return
        except UnsupportedLeafError:
            pass
        except BrokenPipeError as e:
            logger.warning(f"Checkpoints are written in the training process from now on: {e}")
            with _start_lock:
                _failed, _worker = True, None
    checkpoint_io.save_state(state, path)


# ---- the helper's side -----------------------------------------------------------------------------------------

def main() -> None:
    """Serve save requests from stdin until it closes; answer each with ``{"error": None | message, "type": ...}``."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever a library prints goes to stderr, not into a reply
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer

    from skrl.jax import checkpoint_io

    while True:
        header = _read_frame(requests)
        payload = _read_frame(requests) if header is not None else None
        if payload is None:
            return
        answer: dict = {"error": None, "type": None}
        try:
            state, path = decode_request(header, payload)
            checkpoint_io.save_state(state, path)
        except Exception as e:  # reported to the parent, which raises it at its next submit or wait
            answer = {"error": f"{type(e).__name__}: {e}", "type": type(e).__name__}
        _write_frame(replies, json.dumps(answer).encode())
        replies.flush()


if __name__ == "__main__":
    main()
