"""Constructors of the mixins, shared by both backends: option validation and the per-mixin private state.

A backend mixin is ``class GaussianMixin(GaussianMixinBase, _BackendMixinState)``: the base here parses the
options (keeping skrl 1.4.3 signatures) and then calls the backend hook ``_init_mixin(prefix, clip)``, which
converts the action bounds to backend arrays (and, in JAX, finishes the Flax construction). The prefixes
(``_g_``, ``_mg_``, ``_c_``, ``_mc_``, ``_d_``, ``_t_``) keep the state of two mixins on one model apart.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from skrl.common.models import ActionClip, GaussianSettings, action_clip, multicategorical_sizes, validate_reduction


class _MixinBase:
    """Mixins read ``action_space`` from ``Model``; the backend class supplies ``_init_mixin(prefix, clip)``."""

    action_space: Any
    _init_mixin: Callable[[str, Optional[ActionClip]], None]


class GaussianMixinBase(_MixinBase):
    """Diagonal Gaussian mixin options: action clipping, log-std clamping and the log-prob reduction."""

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        del role
        self._g_settings = GaussianSettings.create(
            self.action_space, clip_actions, clip_log_std, min_log_std, max_log_std, reduction
        )
        self._init_mixin("_g_", self._g_settings.clip)


class MultivariateGaussianMixinBase(_MixinBase):
    """Multivariate Gaussian mixin options (no reduction: the log-prob is over the whole action)."""

    def __init__(self, clip_actions: bool = False, clip_log_std: bool = True, min_log_std: float = -20,
                 max_log_std: float = 2, role: str = "") -> None:
        del role
        self._mg_settings = GaussianSettings.create(self.action_space, clip_actions, clip_log_std, min_log_std, max_log_std)
        self._init_mixin("_mg_", self._mg_settings.clip)


class CategoricalMixinBase(_MixinBase):
    """Categorical mixin options: ``unnormalized_log_prob=True`` reads the output as logits, else probabilities."""

    def __init__(self, unnormalized_log_prob: bool = True, role: str = "") -> None:
        del role
        self._c_unnormalized_log_prob = bool(unnormalized_log_prob)
        self._init_mixin("_c_", None)


class MultiCategoricalMixinBase(_MixinBase):
    """Multi-categorical mixin options; the action space must be MultiDiscrete (one categorical per column)."""

    def __init__(self, unnormalized_log_prob: bool = True, reduction: str = "sum", role: str = "") -> None:
        del role
        self._mc_unnormalized_log_prob = bool(unnormalized_log_prob)
        self._mc_reduction = validate_reduction(reduction)
        self._mc_sizes = multicategorical_sizes(self.action_space)
        self._init_mixin("_mc_", None)


class DeterministicMixinBase(_MixinBase):
    """Deterministic mixin options: ``clip_actions`` clips the output to a Box action space's bounds."""

    def __init__(self, clip_actions: bool = False, role: str = "") -> None:
        del role
        self._init_mixin("_d_", action_clip(self.action_space, clip_actions))


class TabularMixinBase(_MixinBase):
    """Tabular mixin: the model keeps its tables (e.g. ``q_table``) as plain array attributes.

    The tables are every instance attribute (except dunder names) holding a backend array, in sorted order; they
    are the model's state in checkpoints. Agents read the Q-table with ``table()``, so it must be named ``q_table``.
    """

    def __init__(self, num_envs: int = 1, role: str = "") -> None:
        del role
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"Invalid `num_envs`: expected an int >= 1. Received: num_envs={num_envs!r}")
        self.num_envs = num_envs
        self._init_mixin("_t_", None)

    def table(self) -> Any:
        """The Q-table ``(num_envs, num_observations, num_actions)`` (the ``q_table`` attribute)."""
        table = getattr(self, "q_table", None)
        if table is None:
            raise AttributeError(f"{type(self).__name__} has no `q_table`: tabular agents read the Q-table from the "
                                 "model attribute `q_table` (num_envs, num_observations, num_actions)")
        return table

    def _is_table(self, value: Any) -> bool:
        raise NotImplementedError

    def _table_names(self) -> list[str]:
        return sorted(name for name, value in vars(self).items()
                      if not (name.startswith("__") and name.endswith("__")) and self._is_table(value))

    def _check_table(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` unless ``value`` can replace the table ``name`` (same shape and dtype)."""
        if name not in self._table_names():
            raise ValueError(f"{name} is not a tensor of {type(self).__name__}. Its tables: {self._table_names()}")
        current = getattr(self, name)
        if tuple(value.shape) != tuple(current.shape) or str(value.dtype) != str(current.dtype):
            raise ValueError(f"Tensor shape ({tuple(value.shape)} vs {tuple(current.shape)}) or dtype ({value.dtype} vs "
                             f"{current.dtype}) mismatch for {name!r} of {type(self).__name__}")

    def __repr__(self) -> str:
        lines = [f"  ({name}): Tensor(shape={list(getattr(self, name).shape)})" for name in self._table_names()]
        return "\n".join([f"{type(self).__name__}(", *lines, ")"])
