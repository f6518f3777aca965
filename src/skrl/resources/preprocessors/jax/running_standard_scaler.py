"""JAX ``RunningStandardScaler`` and the pure, jit-friendly functions it is built on.

Inside a jitted update an agent uses the statistics pytree and the pure functions directly, with no host sync::

    params = scaler.params                                   # {"running_mean", "running_variance", "current_count"}
    y, params = scaler.apply(params, x, train=True)          # or: params = update(params, x); y = standardize(params, x)
    ...
    scaler.params = params                                   # outside jit, store the new statistics
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common import running_stats
from skrl.common.running_stats import ScalerStateDict
from skrl.common.state_trees import check_state_matches

Params = dict


def _merged(xp: Any, params: Params, x: Any) -> Params:
    """Statistics updated with ``x``, keeping the dtype of ``params`` (float32)."""
    updated = running_stats.update_statistics(xp, params, x)
    return {key: value.astype(params[key].dtype) for key, value in updated.items()}


@jax.jit
def update(params: Params, x: jax.Array) -> Params:
    """New statistics after merging the batch ``x`` into ``params`` (pure; usable inside ``jax.jit``)."""
    return _merged(jnp, params, x)


@functools.partial(jax.jit, static_argnames=("inverse",))
def standardize(
    params: Params, x: jax.Array, inverse: bool = False, clip_threshold: float = 5.0, epsilon: float = 1e-8
) -> jax.Array:
    """Standardise ``x`` with ``params`` (or undo it with ``inverse=True``); pure, usable inside ``jax.jit``."""
    return running_stats.standardize(jnp, params, x, inverse=inverse, clip_threshold=clip_threshold, epsilon=epsilon)


class RunningStandardScaler:
    """Standardise inputs with running mean and variance, updated from the batches seen in training.

    The statistics are float32, ``current_count`` has shape ``(1,)`` (the skrl 1.4.3 JAX layout). They are NumPy
    arrays or ``jax.Array`` on ``device`` according to ``config.jax.backend`` at construction.

    Args:
        size: number of features: an int, a shape or a gymnasium space (its flattened storage size).
        epsilon: added to the standard deviation to avoid dividing by zero.
        clip_threshold: the standardised output is clipped to ``[-clip_threshold, clip_threshold]``.
        device: where the statistics live with the ``"jax"`` backend (default: ``config.jax.device``).
    """

    def __init__(
        self, size: Any, epsilon: float = 1e-8, clip_threshold: float = 5.0, device: Optional[Any] = None
    ) -> None:
        size = running_stats.feature_count(size)
        running_stats.check_scaler_arguments(size, epsilon, clip_threshold)
        self.size = size
        self.epsilon = epsilon
        self.clip_threshold = clip_threshold
        self._jax = config.jax.backend == "jax"
        self.device = config.jax.parse_device(device)
        self.params = {
            "running_mean": np.zeros(size, dtype=np.float32),
            "running_variance": np.ones(size, dtype=np.float32),
            "current_count": np.ones((1,), dtype=np.float32),
        }

    @property
    def params(self) -> Params:
        """The statistics pytree ``{"running_mean", "running_variance", "current_count"}``."""
        return self._params

    @params.setter
    def params(self, value: Mapping[str, Any]) -> None:
        expected = {"running_mean": (self.size,), "running_variance": (self.size,), "current_count": (1,)}
        check_state_matches(
            {key: (tuple(np.shape(leaf)), None) for key, leaf in value.items()},
            {key: (shape, None) for key, shape in expected.items()},
            f"RunningStandardScaler(size={self.size})",
        )
        self._params = {key: self._to_array(value[key]) for key in running_stats.STATISTICS_KEYS}

    def _to_array(self, value: Any) -> Union[np.ndarray, jax.Array]:
        if self._jax:
            return jax.device_put(jnp.asarray(value, dtype=jnp.float32), self.device)
        return np.array(value, dtype=np.float32)

    running_mean = property(lambda self: self._params["running_mean"])
    running_variance = property(lambda self: self._params["running_variance"])
    current_count = property(lambda self: self._params["current_count"])

    @property
    def state_dict(self) -> ScalerStateDict:
        """The statistics for checkpoints (``.params``); assigning a state dict or a mapping copies the values in."""
        return ScalerStateDict(params=dict(self._params))

    @state_dict.setter
    def state_dict(self, value: Union[ScalerStateDict, Mapping[str, Any]]) -> None:
        self.params = value.params if isinstance(value, ScalerStateDict) else value

    def apply(self, params: Params, x: jax.Array, train: bool = False, inverse: bool = False) -> tuple[jax.Array, Params]:
        """Pure form of ``__call__`` for jitted code: returns ``(output, params)``, updated first if ``train``."""
        if train:
            params = update(params, x)
        return standardize(params, x, inverse, self.clip_threshold, self.epsilon), params

    def __call__(self, x: Any, train: bool = False, inverse: bool = False) -> Any:
        """Standardise ``x`` (or undo it with ``inverse=True``), first updating the statistics if ``train``."""
        if self._jax:
            output, self._params = self.apply(self._params, x, train=train, inverse=inverse)
            return output
        x = np.asarray(x)
        if train:
            self._params = _merged(np, self._params, x)
        return running_stats.standardize(
            np, self._params, x, inverse=inverse, clip_threshold=self.clip_threshold, epsilon=self.epsilon
        )
