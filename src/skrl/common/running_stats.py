"""Running mean/variance statistics and standardisation, written once over an array namespace ``xp``.

``xp`` is any module with ``sum``, ``sqrt`` and ``clip`` in the NumPy style: ``numpy``, ``jax.numpy`` or ``torch``
(torch accepts ``axis=`` as an alias of ``dim=``). The statistics are a dict with the keys of ``STATISTICS_KEYS``,
which is also the checkpoint layout of ``RunningStandardScaler`` on both backends.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

STATISTICS_KEYS = ("running_mean", "running_variance", "current_count")

Statistics = Mapping[str, Any]


def batch_moments(xp: Any, x: Any) -> tuple[Any, Any, int]:
    """Mean, unbiased variance and sample count of a batch ``x``.

    A 3-D ``x`` (batch, sequence, features) is reduced over its first two axes, anything else over axis 0.
    A one-sample batch has no unbiased variance; its variance is taken as 0 (the population variance of a single
    sample), so that the running variance never becomes NaN (skrl 1.4.3 produced NaN there).
    """
    axis = (0, 1) if x.ndim == 3 else 0
    n = x.shape[0] * x.shape[1] if x.ndim == 3 else x.shape[0]
    mean = xp.sum(x, axis=axis) / n
    variance = xp.sum((x - mean) ** 2, axis=axis) / max(n - 1, 1)
    return mean, variance, n


def update_statistics(xp: Any, statistics: Statistics, x: Any) -> dict[str, Any]:
    """New statistics after merging the batch ``x`` (parallel-variance merge of two sample sets)."""
    mean, variance, count = (statistics[key] for key in STATISTICS_KEYS)
    check_feature_dimension(tuple(x.shape), mean.shape[-1])
    batch_mean, batch_variance, n = batch_moments(xp, x)
    delta = batch_mean - mean
    total = count + n
    m2 = variance * count + batch_variance * n + delta**2 * count * n / total
    return {
        "running_mean": mean + delta * n / total,
        "running_variance": m2 / total,
        "current_count": total,
    }


def standardize(
    xp: Any, statistics: Statistics, x: Any, *, inverse: bool = False, clip_threshold: float = 5.0, epsilon: float = 1e-8
) -> Any:
    """Standardise ``x`` with the statistics, or undo it (``inverse=True``).

    Forward: ``clip((x - mean) / (sqrt(var) + epsilon), -clip_threshold, clip_threshold)``.
    Inverse: ``sqrt(var) * clip(x, -clip_threshold, clip_threshold) + mean`` (no epsilon, output not clipped).
    """
    return standardize_with_std(xp, statistics["running_mean"], xp.sqrt(statistics["running_variance"]), x,
                                inverse=inverse, clip_threshold=clip_threshold, epsilon=epsilon)


def standardize_with_std(
    xp: Any, mean: Any, std: Any, x: Any, *, inverse: bool = False, clip_threshold: float = 5.0, epsilon: float = 1e-8
) -> Any:
    """``standardize`` given the standard deviation ``sqrt(running_variance)`` (which a caller may keep between
    calls while the statistics do not change)."""
    check_feature_dimension(tuple(x.shape), mean.shape[-1])
    if inverse:
        return std * xp.clip(x, -clip_threshold, clip_threshold) + mean
    return xp.clip((x - mean) / (std + epsilon), -clip_threshold, clip_threshold)


def feature_count(size: Any) -> int:
    """Number of features of ``size`` (an int, a shape or a gymnasium space), as stored once flattened."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    from skrl.common.spaces import compute_space_size

    return compute_space_size(size, occupied_size=True)


def check_scaler_arguments(size: int, epsilon: float, clip_threshold: float) -> None:
    """Reject a non-positive size, a negative epsilon or a non-positive clip threshold."""
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ValueError(f"Invalid `size`: expected a positive number of features. Received: size={size!r}")
    if epsilon < 0:
        raise ValueError(f"Invalid `epsilon`: expected a non-negative float. Received: epsilon={epsilon!r}")
    if clip_threshold <= 0:
        raise ValueError(f"Invalid `clip_threshold`: expected a positive float. Received: clip_threshold={clip_threshold!r}")


def check_feature_dimension(shape: tuple, size: int) -> None:
    """Reject an input whose last dimension is not the scaler's number of features."""
    if not shape or shape[-1] != size:
        raise ValueError(
            f"Invalid input for RunningStandardScaler(size={size}): expected an array whose last dimension is {size}. "
            f"Received: shape={tuple(shape)}"
        )


def missing_statistics(values: Mapping[str, Any]) -> list[str]:
    """The statistics keys absent from ``values`` (used to reject an incomplete state dict)."""
    return [key for key in STATISTICS_KEYS if key not in values]


@dataclasses.dataclass(frozen=True)
class ScalerStateDict:
    """The JAX scaler's ``state_dict``: ``params`` holds the statistics; ``replace(params=...)`` gives a new one.

    It mirrors the ``StateDict`` of JAX models, so that agents save ``state_dict.params`` and load with
    ``module.state_dict = module.state_dict.replace(params=loaded)`` for every module kind.
    """

    params: dict

    def replace(self, **changes: Any) -> "ScalerStateDict":
        return dataclasses.replace(self, **changes)
