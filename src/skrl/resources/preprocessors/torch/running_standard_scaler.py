"""Torch ``RunningStandardScaler``: running statistics kept as float64 module buffers."""

from __future__ import annotations

import contextlib
from typing import Any, Optional

import torch
from torch import nn

from skrl import config
from skrl.common import running_stats


class RunningStandardScaler(nn.Module):
    """Standardise inputs with running mean and variance, updated from the batches seen in training.

    The buffers ``running_mean`` (size,), ``running_variance`` (size,) and ``current_count`` () are float64, as in
    skrl 1.4.3, so that its checkpoints load unchanged. The output is computed with float32 statistics.

    Args:
        size: number of features: an int, a shape or a gymnasium space (its flattened storage size).
        epsilon: added to the standard deviation to avoid dividing by zero.
        clip_threshold: the standardised output is clipped to ``[-clip_threshold, clip_threshold]``.
        device: where the buffers live (default: ``config.torch.device``).
    """

    def __init__(
        self, size: Any, epsilon: float = 1e-8, clip_threshold: float = 5.0, device: Optional[Any] = None
    ) -> None:
        super().__init__()
        size = running_stats.feature_count(size)
        running_stats.check_scaler_arguments(size, epsilon, clip_threshold)
        self.size = size
        self.epsilon = epsilon
        self.clip_threshold = clip_threshold
        self.device = config.torch.parse_device(device)
        self.register_buffer("running_mean", torch.zeros(size, dtype=torch.float64, device=self.device))
        self.register_buffer("running_variance", torch.ones(size, dtype=torch.float64, device=self.device))
        self.register_buffer("current_count", torch.ones((), dtype=torch.float64, device=self.device))

    def _statistics(self) -> dict[str, torch.Tensor]:
        return {key: getattr(self, key) for key in running_stats.STATISTICS_KEYS}

    def forward(
        self, x: torch.Tensor, train: bool = False, inverse: bool = False, no_grad: bool = True
    ) -> torch.Tensor:
        """Standardise ``x`` (or undo it with ``inverse=True``), first updating the statistics if ``train``.

        The update never records gradients; ``no_grad=False`` lets gradients flow through the output only.
        """
        if train:
            with torch.no_grad():
                updated = running_stats.update_statistics(torch, self._statistics(), x.detach())
                for key, value in updated.items():
                    getattr(self, key).copy_(value)
        mean, std = self._float_moments()
        with torch.no_grad() if no_grad else contextlib.nullcontext():
            return running_stats.standardize_with_std(
                torch, mean, std, x, inverse=inverse, clip_threshold=self.clip_threshold, epsilon=self.epsilon
            )

    def _float_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """float32 ``(mean, sqrt(variance))``, recomputed only after the buffers change (updated or loaded in place,
        which bumps their version, or replaced, e.g. by ``to``): acting then costs three operations instead of eight."""
        buffers = (self.running_mean, self.running_variance)
        versions = tuple(buffer._version for buffer in buffers)
        cached = self.__dict__.get("_moments")
        if cached is None or cached[0] != versions or any(a is not b for a, b in zip(cached[1], buffers)):
            with torch.inference_mode(False), torch.no_grad():  # usable later with autograd, also if made in act
                moments = (buffers[0].float().clone(), torch.sqrt(buffers[1].float()))
            cached = (versions, buffers, moments)
            self.__dict__["_moments"] = cached
        return cached[2]
