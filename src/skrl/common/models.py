"""Backend-free parts of skrl models and mixins: sizes, option validation, action bounds and random actions.

The torch and JAX ``Model`` classes and mixins read their settings from the objects built here, so that
validation rules and error texts exist once. Bounds and random actions are NumPy arrays; a backend only
converts them to its own arrays.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import gymnasium
import numpy as np

from skrl.common.spaces import compute_space_size

REDUCTIONS = ("mean", "sum", "prod", "none")
MODES = ("train", "eval")

MIXIN_ORDER_WARNING = "Make sure to place Mixins before Model during model definition"
ACT_NOT_IMPLEMENTED = "The action to be taken by the agent (.act()) is not implemented"
COMPUTE_NOT_IMPLEMENTED = "The computation performed by the models (.compute()) is not implemented"


class UnsupportedActionSpaceError(ValueError, NotImplementedError):
    """``random_act`` cannot sample the action space (only Box, Discrete and MultiDiscrete are supported).

    It is also a ``NotImplementedError``, the type skrl 1.4.3 raised, so that existing handlers keep working.
    """


def space_size(space: Any) -> Optional[int]:
    """``num_observations``/``num_actions`` of a space: None for None, else ``compute_space_size`` (flat size)."""
    return None if space is None else compute_space_size(space)


def set_model_spaces(model: Any, observation_space: Any, action_space: Any, device: Any) -> None:
    """Store the spaces, the (parsed) device and ``num_observations``/``num_actions`` on a new model."""
    model.observation_space = observation_space
    model.action_space = action_space
    model.device = device
    model.num_observations = space_size(observation_space)
    model.num_actions = space_size(action_space)


def validate_reduction(reduction: str) -> str:
    """Check a mixin's ``reduction`` option; it reduces log-probabilities over the last axis."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of 'mean', 'sum', 'prod' or 'none'. Received: reduction={reduction!r}")
    return reduction


def training_flag(mode: str) -> bool:
    """``set_mode`` argument to the training flag: ``"train"`` is True, ``"eval"`` is False."""
    if mode not in MODES:
        raise ValueError(f"Invalid mode. Use 'train' for training or 'eval' for evaluation. Received: mode={mode!r}")
    return mode == "train"


def reduce_log_prob(log_prob: Any, reduction: str, actions_ndim: int) -> Any:
    """Reduce per-dimension log-probabilities over the last axis, keeping the actions' rank ``(B, 1)``.

    Works on torch tensors and JAX arrays alike (only methods and indexing they share are used).
    """
    if reduction != "none":
        log_prob = getattr(log_prob, reduction)(-1)
    if log_prob.ndim != actions_ndim:
        log_prob = log_prob[..., None]
    return log_prob


@dataclasses.dataclass(frozen=True)
class ActionClip:
    """Element-wise float32 bounds of a Box action space, used to clip actions."""

    low: np.ndarray
    high: np.ndarray


def action_clip(action_space: Any, enabled: bool) -> Optional[ActionClip]:
    """Bounds for ``clip_actions``; None when disabled or when the space is not a gymnasium space (as in 1.4.3)."""
    if not enabled or not isinstance(action_space, gymnasium.Space):
        return None
    if not isinstance(action_space, gymnasium.spaces.Box):
        raise ValueError(
            f"Invalid `clip_actions`: clipping needs a Box action space with bounds. Received: action_space={action_space}"
        )
    return ActionClip(np.asarray(action_space.low, np.float32), np.asarray(action_space.high, np.float32))


@dataclasses.dataclass(frozen=True)
class GaussianSettings:
    """Options of the (multivariate) Gaussian mixins. Log-std bounds are infinite when ``clip_log_std`` is off."""

    clip: Optional[ActionClip]
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: str = "sum"

    @classmethod
    def create(
        cls,
        action_space: Any,
        clip_actions: bool,
        clip_log_std: bool,
        min_log_std: float,
        max_log_std: float,
        reduction: str = "sum",
    ) -> "GaussianSettings":
        if clip_log_std and min_log_std > max_log_std:
            raise ValueError(
                f"Invalid log-std bounds: expected min_log_std <= max_log_std. Received: {min_log_std=}, {max_log_std=}"
            )
        low, high = (float(min_log_std), float(max_log_std)) if clip_log_std else (-np.inf, np.inf)
        return cls(action_clip(action_space, clip_actions), bool(clip_log_std), low, high, validate_reduction(reduction))


def multicategorical_sizes(action_space: Any) -> list[int]:
    """Number of categories of each sub-action of a MultiDiscrete action space (the MultiCategorical mixin)."""
    if not isinstance(action_space, gymnasium.spaces.MultiDiscrete):
        raise ValueError(
            f"The MultiCategorical mixin needs a MultiDiscrete action space. Received: action_space={action_space}"
        )
    return [int(n) for n in np.asarray(action_space.nvec).reshape(-1)]


@dataclasses.dataclass(frozen=True)
class RandomActionSpec:
    """How ``random_act`` samples: uniform floats in ``[low, high)`` (Box) or integers below ``nvec`` (discrete)."""

    low: Optional[np.ndarray] = None
    high: Optional[np.ndarray] = None
    nvec: Optional[np.ndarray] = None

    @property
    def is_discrete(self) -> bool:
        return self.nvec is not None


def random_action_spec(action_space: Any) -> RandomActionSpec:
    """Describe uniform random actions for a Box, Discrete or MultiDiscrete action space.

    Discrete gives one column ``(B, 1)``, MultiDiscrete one column per sub-action. Box bounds are used
    element-wise (skrl 1.4.3 used only the first element) and must be finite.
    """
    if isinstance(action_space, gymnasium.spaces.Discrete):
        return RandomActionSpec(nvec=np.array([action_space.n], np.int64))
    if isinstance(action_space, gymnasium.spaces.MultiDiscrete):
        return RandomActionSpec(nvec=np.asarray(action_space.nvec, np.int64).reshape(-1))
    if isinstance(action_space, gymnasium.spaces.Box):
        low = np.asarray(action_space.low, np.float32).reshape(-1)
        high = np.asarray(action_space.high, np.float32).reshape(-1)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise UnsupportedActionSpaceError(
                f"random_act needs finite Box bounds to sample uniformly. Received: action_space={action_space}"
            )
        return RandomActionSpec(low=low, high=high)
    raise UnsupportedActionSpaceError(
        f"Action space type ({type(action_space)}) not supported: random_act samples Box, Discrete and MultiDiscrete"
    )


def sample_random_actions(spec: RandomActionSpec, batch_size: int) -> np.ndarray:
    """Uniform random actions from NumPy's global RNG: ``(B, k)`` int64 or ``(B, A)`` float32."""
    if spec.is_discrete:
        return np.random.randint(0, spec.nvec, size=(batch_size, len(spec.nvec))).astype(np.int64)
    return np.random.uniform(spec.low, spec.high, size=(batch_size, len(spec.low))).astype(np.float32)


def initializer_request(
    method_name: str, args: tuple, kwargs: dict, *, trailing_underscore: bool, value_keyword: str
) -> tuple[str, tuple, dict]:
    """Normalise an ``init_parameters``/``init_weights``/``init_biases`` request for one backend.

    Torch names end with ``_`` (``"orthogonal_"``), Flax names do not (``"orthogonal"``); either spelling is
    accepted. ``constant`` without a value fills with 0, and its value keyword (torch ``val``, Flax ``value``)
    is renamed to the backend's ``value_keyword``.
    Example: ``initializer_request("constant_", (), {}, trailing_underscore=False, value_keyword="value")``
    gives ``("constant", (0.0,), {})``.
    """
    if not isinstance(method_name, str) or not method_name.strip("_"):
        raise ValueError(f"Invalid initializer name: expected a non-empty string. Received: method_name={method_name!r}")
    base = method_name.rstrip("_")
    name = base + "_" if trailing_underscore else base
    kwargs = dict(kwargs)
    if base == "constant":
        for keyword in ("val", "value"):
            if keyword in kwargs and keyword != value_keyword:
                kwargs[value_keyword] = kwargs.pop(keyword)
        if not args and value_keyword not in kwargs:
            args = (0.0,)
    return name, tuple(args), kwargs


def unknown_initializer_error(method_name: str, where: str) -> ValueError:
    return ValueError(f"Unknown initializer: {where} has no {method_name!r}. Received: method_name={method_name!r}")
