"""Torch learning-rate schedulers (``KLAdaptiveRL`` is the legacy spelling of ``KLAdaptiveLR``)."""

from skrl.resources.schedulers.torch.kl_adaptive import (
    KLAdaptiveLR,
    KLAdaptiveRL,
)

__all__ = [
    "KLAdaptiveLR",
    "KLAdaptiveRL",
]
