"""Python's and NumPy's global generators as plain arrays, so that checkpoints can hold and restore them exactly."""

from __future__ import annotations

import random
from typing import Any, Mapping

import numpy as np


def capture_python_rngs() -> dict[str, Any]:
    """The states of ``random`` and ``numpy.random`` (global generators) as NumPy arrays and numbers."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": int(version), "internal": np.asarray(internal, dtype=np.int64),
                   "gauss": float("nan") if gauss is None else float(gauss)},
        "numpy": {"keys": np.asarray(keys, dtype=np.uint32), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
    }


def restore_python_rngs(state: Mapping[str, Any]) -> None:
    """Set ``random`` and ``numpy.random`` back to a state from ``capture_python_rngs`` (missing parts are skipped)."""
    py = state.get("python")
    if py:
        gauss = float(py["gauss"])
        random.setstate((int(py["version"]), tuple(int(x) for x in np.asarray(py["internal"])),
                         None if gauss != gauss else gauss))
    nps = state.get("numpy")
    if nps:
        np.random.set_state(("MT19937", np.asarray(nps["keys"], dtype=np.uint32), int(nps["pos"]),
                             int(nps["has_gauss"]), float(nps["cached_gaussian"])))
