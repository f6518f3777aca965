"""Range checks for validated agent configs, and reading a config dataclass from the merged config dict.

Each check raises ``InvalidConfigValueError`` naming the key, what is allowed and what was received.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from skrl.common.errors import InvalidConfigValueError


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_positive_int(name: str, value: Any) -> None:
    """``value`` must be an int >= 1 (e.g. ``rollouts``)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected an int >= 1. Received: {name}={value!r}")


def check_non_negative(name: str, value: Any) -> None:
    """``value`` must be a number >= 0 (e.g. ``learning_starts``, ``damping``)."""
    if not _is_number(value) or value < 0:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a number >= 0. Received: {name}={value!r}")


def check_fraction(name: str, value: Any) -> None:
    """``value`` must be a number in [0, 1] (e.g. ``percentile``)."""
    if not _is_number(value) or not 0 <= value <= 1:
        raise InvalidConfigValueError(f"Invalid `{name}`: expected a number in [0, 1]. Received: {name}={value!r}")


def config_fields(cls: type, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``cfg`` for the fields of dataclass ``cls``; a field ``lambda_`` reads the key ``lambda``."""
    return {field.name: cfg[field.name.rstrip("_")] for field in dataclasses.fields(cls)}
