"""Torch noises: ``GaussianNoise`` and ``OrnsteinUhlenbeckNoise`` drawing from torch's global generator."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch
from torch.distributions import Normal

from skrl import config
from skrl.common.noises import (
    GaussianNoiseCore,
    NoiseCore,
    OrnsteinUhlenbeckNoiseCore,
    ornstein_uhlenbeck_step,
    size_tuple,
)


class Noise(NoiseCore):
    """Base class of torch noises: holds the ``device`` where samples are created."""

    def __init__(self, device: Optional[Union[str, torch.device]] = None) -> None:
        self.device = config.torch.parse_device(device)

    def _normal(self, mean: float, std: float) -> Normal:
        return Normal(torch.tensor(mean, dtype=torch.float32, device=self.device),
                      torch.tensor(std, dtype=torch.float32, device=self.device), validate_args=False)


class GaussianNoise(GaussianNoiseCore, Noise):
    """Normal noise ``N(mean, std)`` (float32 samples on ``device``)."""

    def __init__(self, mean: float, std: float, device: Optional[Union[str, torch.device]] = None) -> None:
        Noise.__init__(self, device)
        GaussianNoiseCore.__init__(self, mean, std)
        self.distribution = self._normal(self.mean, self.std)

    def sample(self, size: Union[int, Sequence[int], torch.Size]) -> torch.Tensor:
        """A float32 tensor of shape ``size``."""
        return self.distribution.sample(size_tuple(size))


class OrnsteinUhlenbeckNoise(OrnsteinUhlenbeckNoiseCore, Noise):
    """Ornstein-Uhlenbeck noise (see ``OrnsteinUhlenbeckNoiseCore``); ``state`` is a tensor after the first sample."""

    def __init__(self, theta: float, sigma: float, base_scale: float, mean: float = 0, std: float = 1,
                 device: Optional[Union[str, torch.device]] = None) -> None:
        Noise.__init__(self, device)
        OrnsteinUhlenbeckNoiseCore.__init__(self, theta, sigma, base_scale, mean, std)
        self.distribution = self._normal(self.mean, self.std)

    def sample(self, size: Union[int, Sequence[int], torch.Size]) -> torch.Tensor:
        """Advance the process one step and return ``base_scale * state`` (shape ``size``)."""
        shape = size_tuple(size)
        state: Any = self.state_for(shape)
        if state is None:
            state = torch.zeros(shape, dtype=torch.float32, device=self.device)
        self.state = ornstein_uhlenbeck_step(state, self.distribution.sample(shape), self.theta, self.sigma)
        return self.base_scale * self.state
