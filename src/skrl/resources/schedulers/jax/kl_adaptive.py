"""JAX ``KLAdaptiveLR``: a schedule factory whose schedule adapts the learning rate to the KL divergence."""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

from skrl.common.kl_adaptive import KLAdaptiveRule

Schedule = Callable[..., Any]


def KLAdaptiveLR(
    kl_threshold: float = 0.008,
    min_lr: float = 1e-6,
    max_lr: float = 1e-2,
    kl_factor: float = 2,
    lr_factor: float = 1.5,
) -> Schedule:
    """Return ``schedule(count, lr=None, kl=None)`` applying ``KLAdaptiveRule``; the caller keeps the rate.

    ``schedule(count)`` returns 1.0 (a neutral optax-style scale) and ``schedule(count, lr)`` returns ``lr``, so
    agents that multiply their rate by every schedule keep it constant. ``schedule(count, lr, kl)`` returns the
    adapted rate: a float for host values, a JAX scalar when ``lr`` or ``kl`` is a ``jax.Array`` (inside ``jax.jit``
    too, with no host sync). ``count`` is ignored.
    """
    rule = KLAdaptiveRule(kl_threshold, min_lr, max_lr, kl_factor, lr_factor)

    def schedule(count: Any, lr: Optional[Any] = None, kl: Optional[Any] = None) -> Any:
        del count
        if lr is None:
            return 1.0
        if kl is None:
            return lr
        if isinstance(lr, jax.Array) or isinstance(kl, jax.Array):
            return rule.next_lr(lr, kl, xp=jnp)
        return float(rule.next_lr(lr, kl))

    return schedule


kl_adaptive = KLAdaptiveLR
KLAdaptiveRL = KLAdaptiveLR
