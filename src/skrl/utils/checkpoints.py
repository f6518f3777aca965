"""Picking checkpoints out of run directories."""

from skrl.common.run_manifest import find_checkpoint, read_manifest

__all__ = [
    "find_checkpoint",
    "read_manifest",
]
