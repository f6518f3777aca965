"""Picking checkpoints out of run directories, and converting them between backends."""

from skrl._conversion_io import convert_checkpoint
from skrl.common.run_manifest import find_checkpoint, read_manifest

__all__ = [
    "convert_checkpoint",
    "find_checkpoint",
    "read_manifest",
]
