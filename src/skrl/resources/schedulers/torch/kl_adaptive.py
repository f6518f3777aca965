"""Torch ``KLAdaptiveLR``: an LR scheduler stepped with the policy's KL divergence."""

from __future__ import annotations

import inspect
from typing import Any, Optional

import torch
from torch.optim import lr_scheduler

from skrl.common.kl_adaptive import KLAdaptiveRule

_Scheduler = getattr(lr_scheduler, "LRScheduler", None) or lr_scheduler._LRScheduler
_VERBOSE = inspect.signature(_Scheduler.__init__).parameters.get("verbose")


class KLAdaptiveLR(_Scheduler):
    """Adapt every param group's learning rate to the KL divergence passed to ``step(kl)`` (see ``KLAdaptiveRule``).

    ``step()`` without ``kl`` does nothing, so agents that step every scheduler the same way keep a constant rate.

    Args:
        optimizer: the wrapped optimizer.
        kl_threshold: target KL divergence.
        min_lr: lower bound of a lowered rate.
        max_lr: upper bound of a raised rate.
        kl_factor: width of the band around ``kl_threshold`` in which the rate is kept.
        lr_factor: factor by which the rate is divided or multiplied.
        last_epoch: as in ``torch.optim.lr_scheduler.LRScheduler``.
        verbose: passed on only to torch versions that still accept it.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kl_threshold: float = 0.008,
        min_lr: float = 1e-6,
        max_lr: float = 1e-2,
        kl_factor: float = 2,
        lr_factor: float = 1.5,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        KLAdaptiveRule(kl_threshold, min_lr, max_lr, kl_factor, lr_factor)  # validates the arguments
        self.kl_threshold = kl_threshold
        self.min_lr = min_lr
        self.max_lr = max_lr
        self._kl_factor = kl_factor
        self._lr_factor = lr_factor
        kwargs = {} if _VERBOSE is None else {"verbose": verbose or _VERBOSE.default}
        super().__init__(optimizer, last_epoch, **kwargs)
        self._last_lr = self.get_lr()

    def get_lr(self) -> list[float]:
        """The current learning rate of each param group."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, kl: Optional[Any] = None, epoch: Optional[int] = None) -> None:
        """Adapt the learning rates to ``kl`` (a float or a one-element tensor); ``kl=None`` does nothing.

        ``epoch`` is accepted for compatibility with the base class and ignored.
        """
        del epoch
        if kl is None:
            return
        kl = float(kl)
        rule = KLAdaptiveRule(self.kl_threshold, self.min_lr, self.max_lr, self._kl_factor, self._lr_factor)
        for group in self.optimizer.param_groups:
            group["lr"] = float(rule.next_lr(group["lr"], kl))
        self._last_lr = self.get_lr()


KLAdaptiveRL = KLAdaptiveLR
