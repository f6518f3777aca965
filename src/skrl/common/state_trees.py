"""Backend-free helpers over nested state dicts: flattening to ``path -> leaf`` and comparing structures.

Both backends describe their live modules and a loaded checkpoint as ``{path: (shape, dtype)}`` and call
``check_state_matches`` so that a mismatch is reported the same way, with every difference listed.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from skrl.common.errors import CheckpointMismatchError

LeafSpec = tuple  # (shape tuple, dtype name)


def flatten_tree(tree: Any, prefix: str = "", separator: str = ".") -> dict[str, Any]:
    """Flatten nested mappings into ``{"a.b.c": leaf}``; non-mapping values are leaves."""
    flat: dict[str, Any] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            path = f"{prefix}{separator}{key}" if prefix else str(key)
            if isinstance(value, Mapping) and value:
                flat.update(flatten_tree(value, path, separator))
            else:
                flat[path] = value
    else:
        flat[prefix] = tree
    return flat


def describe_leaves(flat: Mapping[str, Any], describe: Callable[[Any], LeafSpec | None]) -> dict[str, LeafSpec]:
    """Map each leaf to ``(shape, dtype)`` with a backend's ``describe`` (None for non-array leaves, which are skipped)."""
    specs = {}
    for path, leaf in flat.items():
        spec = describe(leaf)
        if spec is not None:
            specs[path] = spec
    return specs


def state_differences(saved: Mapping[str, LeafSpec], expected: Mapping[str, LeafSpec], check_dtype: bool = False) -> list[str]:
    """Every difference between two ``{path: (shape, dtype)}`` descriptions, one line each (empty if they match)."""
    lines = []
    missing = [k for k in expected if k not in saved]
    unexpected = [k for k in saved if k not in expected]
    if missing:
        lines.append("missing keys (in the model, not in the checkpoint): " + ", ".join(missing))
    if unexpected:
        lines.append("unexpected keys (in the checkpoint, not in the model): " + ", ".join(unexpected))
    for key in expected:
        if key not in saved:
            continue
        (s_shape, s_dtype), (e_shape, e_dtype) = saved[key], expected[key]
        if e_shape is not None and tuple(s_shape) != tuple(e_shape):  # None: not known yet (a lazy layer)
            lines.append(f"{key}: saved shape {tuple(s_shape)} -> expected shape {tuple(e_shape)}")
        elif check_dtype and str(s_dtype) != str(e_dtype):
            lines.append(f"{key}: saved dtype {s_dtype} -> expected dtype {e_dtype}")
    return lines


def check_state_matches(
    saved: Mapping[str, LeafSpec], expected: Mapping[str, LeafSpec], what: str, check_dtype: bool = False
) -> None:
    """Raise ``CheckpointMismatchError`` listing every difference when ``saved`` does not fit ``expected``."""
    lines = state_differences(saved, expected, check_dtype)
    if lines:
        details = "\n  ".join(lines)
        raise CheckpointMismatchError(
            f"The checkpoint does not match {what} (was it written for another architecture?):\n  {details}"
        )
