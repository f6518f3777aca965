"""Constructors of the mixins, shared by both backends: option validation and the per-mixin private state.

A backend mixin is ``class GaussianMixin(GaussianMixinBase, _BackendMixinState)``: the base here parses the
options (keeping skrl 1.4.3 signatures) and then calls the backend hook ``_init_mixin(prefix, clip)``, which
converts the action bounds to backend arrays (and, in JAX, finishes the Flax construction). The prefixes
(``_g_``, ``_mg_``, ``_c_``, ``_mc_``, ``_d_``) keep the state of two mixins on one model apart.
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
