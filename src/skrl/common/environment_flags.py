"""skrl's on/off environment variables (``SKRL_JAX_CHECKPOINT_PROCESS=0``, ...), read the same way everywhere."""

from __future__ import annotations

import os

#: values that switch a default-on feature off (case-insensitive, surrounding spaces ignored)
OFF_VALUES = ("0", "off", "false", "no", "none")


def switched_off(name: str) -> bool:
    """Whether the environment variable ``name`` is set to one of ``OFF_VALUES`` (unset: the feature stays on)."""
    return os.environ.get(name, "").strip().lower() in OFF_VALUES
