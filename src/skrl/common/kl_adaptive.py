"""The KL-adaptive learning-rate rule shared by the torch scheduler and the JAX schedule."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class KLAdaptiveRule:
    """Lower the learning rate when the policy's KL divergence is too high, raise it when too low.

    With ``kl_threshold=0.008`` and ``kl_factor=2``: a KL above 0.016 divides the rate by ``lr_factor`` (not below
    ``min_lr``), a KL below 0.004 multiplies it by ``lr_factor`` (not above ``max_lr``), anything between keeps it.
    """

    kl_threshold: float = 0.008  #: target KL divergence between the old and the new policy
    min_lr: float = 1e-6  #: lower bound of a lowered learning rate
    max_lr: float = 1e-2  #: upper bound of a raised learning rate
    kl_factor: float = 2  #: width of the band around ``kl_threshold`` in which the rate is kept
    lr_factor: float = 1.5  #: factor by which the rate is divided or multiplied

    def __post_init__(self) -> None:
        for name in ("kl_threshold", "min_lr", "max_lr"):
            if getattr(self, name) < 0:
                raise ValueError(f"Invalid `{name}`: expected a non-negative float. Received: {name}={getattr(self, name)!r}")
        for name in ("kl_factor", "lr_factor"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Invalid `{name}`: expected a positive float. Received: {name}={getattr(self, name)!r}")
        if self.min_lr > self.max_lr:
            raise ValueError(
                f"Invalid learning-rate bounds: expected min_lr <= max_lr. Received: min_lr={self.min_lr!r}, max_lr={self.max_lr!r}"
            )

    def next_lr(self, lr: Any, kl: Any, xp: Any = np) -> Any:
        """The learning rate after observing ``kl``.

        With the default ``xp=numpy`` it returns a 0-d NumPy array (``float()`` it); pass ``jax.numpy`` to apply the
        rule to traced values inside ``jax.jit`` with no host sync.
        """
        lowered = xp.maximum(lr / self.lr_factor, self.min_lr)
        raised = xp.minimum(lr * self.lr_factor, self.max_lr)
        kept_or_raised = xp.where(kl < self.kl_threshold / self.kl_factor, raised, lr)
        return xp.where(kl > self.kl_threshold * self.kl_factor, lowered, kept_or_raised)
