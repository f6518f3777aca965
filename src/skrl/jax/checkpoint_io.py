"""Checkpoint bytes for JAX: orbax-checkpoint directories, replaced atomically; legacy skrl 1.4.3 pickles read safely."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shutil
from typing import Any

import jax
import numpy as np

from skrl.common.atomic_files import TMP_SUFFIX, fsync_directory, temporary_path_for
from skrl.common.errors import CheckpointFileError, UnsafeCheckpointError

FILE_EXTENSION = ""  # orbax checkpoints are directories: ``agent_1000/``
LEGACY_EXTENSION = ".pickle"


def _checkpointer() -> Any:
    """A checkpointer over this process alone: skrl writes from rank 0 only (the other ranks hold the same
    parameters), so no barrier may wait for the other processes of a distributed run."""
    import orbax.checkpoint as ocp

    from skrl import config

    if not config.jax.is_distributed:
        return ocp.PyTreeCheckpointer()
    this = config.jax.rank
    options = ocp.options.MultiprocessingOptions(primary_host=this, active_processes={this})
    return ocp.Checkpointer(ocp.PyTreeCheckpointHandler(multiprocessing_options=options),
                            multiprocessing_options=options)


def save_state(state: Any, path: str) -> None:
    """Write a pytree (device arrays are fetched to the host) as an orbax checkpoint directory at ``path``.

    Orbax finalises into a temporary directory; it then replaces ``path`` by rename, so ``path`` always
    holds a complete checkpoint (the previous one until the new one is in place).
    """
    path = os.path.abspath(path)
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, "_CHECKPOINT_METADATA")):
        raise FileExistsError(f"Cannot save a checkpoint to {path!r}: it is a directory that is not a checkpoint "
                              "(saving replaces the directory). Choose a new path or an existing checkpoint.")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    host_state = jax.device_get(state)
    tmp = temporary_path_for(path)
    try:
        _checkpointer().save(tmp, host_state)
        old = None
        if os.path.exists(path):
            old = temporary_path_for(path)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_directory(os.path.dirname(path))


def load_state(path: str) -> Any:
    """Read an orbax checkpoint directory (or a legacy skrl 1.4.3 ``.pickle``) as a pytree of NumPy arrays."""
    if TMP_SUFFIX in os.path.basename(path.rstrip(os.sep)):
        raise CheckpointFileError(f"{path!r} is the temporary of an interrupted write, not a checkpoint")
    if os.path.isfile(path):
        return load_legacy_pickle(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No checkpoint at {path!r}")
    try:
        return _checkpointer().restore(os.path.abspath(path))
    except Exception as e:
        raise CheckpointFileError(f"Cannot read orbax checkpoint {path!r}: it is corrupt or incomplete ({e})") from None


class _DataOnlyUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, strings, bytes and numbers: any global (class or function) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise UnsafeCheckpointError(
            f"Refused to load: the pickle references {module}.{name}, and building it could run arbitrary code. "
            "skrl 1.4.3 JAX checkpoints hold only {name: bytes} and never need this"
        )


def load_legacy_pickle(path: str) -> Any:
    """Read a skrl 1.4.3 JAX checkpoint (a pickle of flax msgpack bytes) without running code from it."""
    with open(path, "rb") as file:
        raw = file.read()
    try:
        return _DataOnlyUnpickler(io.BytesIO(raw)).load()
    except UnsafeCheckpointError:
        raise
    except Exception as e:
        raise CheckpointFileError(f"Cannot read legacy checkpoint {path!r}: corrupt or truncated ({e})") from None


def msgpack_restore(data: bytes) -> Any:
    """Decode flax msgpack bytes (as written by skrl 1.4.3) into a nested dict of NumPy arrays."""
    from flax import serialization

    with contextlib.suppress(Exception):
        return serialization.msgpack_restore(data)
    raise CheckpointFileError("Cannot decode flax msgpack bytes: the checkpoint entry is corrupt")


def to_host(tree: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, jax.device_get(tree))
