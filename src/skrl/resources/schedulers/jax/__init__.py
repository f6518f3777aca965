"""JAX learning-rate schedules (``KLAdaptiveRL`` is the legacy spelling of ``KLAdaptiveLR``)."""

from skrl.resources.schedulers.jax.kl_adaptive import (
    KLAdaptiveLR,
    KLAdaptiveRL,
    kl_adaptive,
)

__all__ = [
    "KLAdaptiveLR",
    "KLAdaptiveRL",
    "kl_adaptive",
]
