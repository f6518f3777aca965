"""Torch preprocessors."""

from skrl.resources.preprocessors.torch.running_standard_scaler import RunningStandardScaler

__all__ = [
    "RunningStandardScaler",
]
