"""Config dicts at the API: deep merge over defaults and unknown-key detection with a suggestion."""

from __future__ import annotations

import copy
import difflib
from typing import Any, Iterable, Mapping

from skrl.common.errors import UnknownConfigKeyError

# Values that must never be deep-copied (classes, functions, devices, models) are kept by reference.
_NO_COPY_TYPES = (type,)


def _copy_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # devices, callables and other objects that do not copy are shared
        return value


def suggest_key(key: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest allowed key, or an empty string."""
    matches = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.5)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def check_known_keys(cfg: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise ``UnknownConfigKeyError`` for the first key of ``cfg`` not in ``allowed``, suggesting the closest one."""
    allowed = list(allowed)
    for key in cfg:
        if key not in allowed:
            raise UnknownConfigKeyError(
                f"Unknown key {key!r} in {where}{suggest_key(key, allowed)}. Allowed keys: {', '.join(sorted(map(str, allowed)))}"
            )


def deep_merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, where: str = "config",
               open_keys: Iterable[str] = ()) -> dict:
    """Return a fresh dict: ``overrides`` merged over ``defaults`` recursively, unknown keys rejected.

    Nested dicts are merged key by key, so a partial ``{"experiment": {"write_interval": 10}}`` keeps the other
    experiment defaults. Keys named in ``open_keys`` (e.g. ``*_kwargs``) accept any content and replace the default.
    The defaults are never mutated.
    """
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, Mapping):
        raise TypeError(f"Invalid {where}: expected a dict. Received: {type(overrides).__name__}")
    open_keys = set(open_keys)
    check_known_keys(overrides, defaults.keys(), where)
    merged = {k: _copy_value(v) for k, v in defaults.items()}
    for key, value in overrides.items():
        default = defaults[key]
        if key not in open_keys and isinstance(default, Mapping) and default and isinstance(value, Mapping):
            merged[key] = deep_merge(default, value, f"{where}[{key!r}]", open_keys)
        else:
            merged[key] = _copy_value(value)
    return merged
