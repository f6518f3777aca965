"""Pytrees prepared for jitted calls, so that each jitted function compiles once per shape."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def commit(tree: Any, device: Any) -> Any:
    """``tree`` with every array strongly typed and committed to ``device``.

    A jitted function compiles again when an argument's weak type (e.g. a parameter created from a Python float) or
    placement changes; its outputs are strongly typed and committed, so inputs should already be.
    """
    return jax.device_put(jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype=jnp.result_type(x)), tree), device)
