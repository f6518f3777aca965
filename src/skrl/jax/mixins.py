"""JAX mixins: turn the output of a model's ``__call__`` into actions, log-probabilities and an outputs dict.

``act(inputs, role, params)`` is traceable, so agents call it inside ``jax.jit``. Randomness comes from
``inputs["key"]`` when the caller gives one (nothing on the Python side changes). Without it, the skrl 1.4.3
behaviour applies: a copy of ``config.jax.key`` taken at construction, folded with a call counter, written to
``inputs["key"]``. Each stochastic mixin puts ``"entropy"`` in the outputs, shaped as the torch ``get_entropy()``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Mapping, MutableMapping, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.mixins import (
    CategoricalMixinBase,
    DeterministicMixinBase,
    GaussianMixinBase,
    MultiCategoricalMixinBase,
    TabularMixinBase,
)
from skrl.common.models import ActionClip, reduce_log_prob

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class _PrngStream:
    """Per-mixin fallback randomness: ``fold_in(key at construction, call counter)``."""

    def __init__(self) -> None:
        with jax.ensure_compile_time_eval():  # Flax re-runs constructors while tracing: keep the config key concrete
            self.key = config.jax.key
        self.counter = 0

    def key_for(self, inputs: MutableMapping[str, Any]) -> jax.Array:
        if inputs.get("key") is not None:
            return inputs["key"]
        self.counter += 1
        inputs["key"] = jax.random.fold_in(self.key, self.counter)
        return inputs["key"]


class _JaxMixinState:
    """Backend hook of the mixin bases: bounds (NumPy constants), PRNG stream, jitted ``act``; finishes Flax init.

    Each mixin writes a pure ``<prefix>act(params, inputs, role)`` that reads ``inputs["key"]``; ``_act`` fills the
    key when missing and calls it through ``jax.jit`` (inlined when the caller is itself jitted).
    """

    def _init_mixin(self, prefix: str, clip: Optional[ActionClip]) -> None:
        setattr(self, f"{prefix}clip", clip)
        setattr(self, f"{prefix}prng", _PrngStream())
        setattr(self, f"{prefix}jitted_act", jax.jit(getattr(self, f"{prefix}act"), static_argnums=2))
        nn.Module.__post_init__(self)

    def _act(self, prefix: str, inputs: Mapping[str, Any], role: str, params: Optional[Any], keyed: bool = True) -> tuple:
        inputs = _input_dict(inputs)
        if keyed:
            getattr(self, f"{prefix}prng").key_for(inputs)
        return getattr(self, f"{prefix}jitted_act")(self._params(params), inputs, role)


def _clip(actions: jax.Array, clip: Any) -> jax.Array:
    return actions if clip is None else jnp.clip(actions, clip.low, clip.high)


def _normalized_logits(net_output: jax.Array, unnormalized_log_prob: bool) -> jax.Array:
    """Log-probabilities of each category, from logits or from (unnormalised) probabilities."""
    if unnormalized_log_prob:
        return net_output - jax.nn.logsumexp(net_output, axis=-1, keepdims=True)
    probs = net_output / net_output.sum(axis=-1, keepdims=True)
    eps = jnp.finfo(probs.dtype).eps
    return jnp.log(jnp.clip(probs, eps, 1 - eps))


def _categorical_entropy(log_probs: jax.Array) -> jax.Array:
    log_probs = jnp.maximum(log_probs, jnp.finfo(log_probs.dtype).min)
    return -(jnp.exp(log_probs) * log_probs).sum(axis=-1)


def _categorical_log_prob(log_probs: jax.Array, actions: jax.Array) -> jax.Array:
    """``log_probs[i, a_i]`` as ``(B, 1)``; float actions are accepted and cast."""
    indices = jnp.asarray(actions).reshape(-1, 1).astype(jnp.int32)
    return jnp.take_along_axis(log_probs, indices, axis=-1)


def _input_dict(inputs: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """The caller's dict (1.4.3 writes the key into it), or a copy when it cannot be mutated."""
    return inputs if isinstance(inputs, MutableMapping) else dict(inputs)


class GaussianMixin(GaussianMixinBase, _JaxMixinState):
    """Diagonal Gaussian policy: ``__call__`` returns ``(mean_actions, log_std, outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        return self._act("_g_", inputs, role, params)

    def _g_act(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple:
        key = inputs["key"]
        mean_actions, log_std, outputs = self.apply(params, inputs, role)
        settings = self._g_settings
        log_std = jnp.clip(log_std, settings.min_log_std, settings.max_log_std)
        stddev = jnp.exp(log_std)
        actions = _clip(mean_actions + stddev * jax.random.normal(key, mean_actions.shape), self._g_clip)
        taken_actions = inputs.get("taken_actions")
        taken_actions = actions if taken_actions is None else taken_actions
        log_prob = -jnp.square(taken_actions - mean_actions) / (2 * jnp.square(stddev)) - log_std - _HALF_LOG_2PI
        outputs["mean_actions"] = mean_actions
        outputs["log_std"] = log_std
        outputs["stddev"] = stddev
        outputs["entropy"] = jnp.broadcast_to(self.get_entropy(stddev), mean_actions.shape)
        return actions, reduce_log_prob(log_prob, settings.reduction, actions.ndim), outputs

    def get_entropy(self, stddev: jax.Array, role: str = "") -> jax.Array:
        """Per-dimension entropy of a Normal with standard deviation ``stddev`` (same shape)."""
        return 0.5 + _HALF_LOG_2PI + jnp.log(stddev)


class CategoricalMixin(CategoricalMixinBase, _JaxMixinState):
    """Categorical policy over a Discrete action space: ``__call__`` returns ``(net_output (B, n), outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        return self._act("_c_", inputs, role, params)

    def _c_act(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple:
        key = inputs["key"]
        net_output, outputs = self.apply(params, inputs, role)
        log_probs = _normalized_logits(net_output, self._c_unnormalized_log_prob)
        actions = jax.random.categorical(key, log_probs, axis=-1).reshape(-1, 1).astype(jnp.int32)
        taken_actions = inputs.get("taken_actions")
        log_prob = _categorical_log_prob(log_probs, actions if taken_actions is None else taken_actions)
        outputs["net_output"] = net_output
        outputs["stddev"] = jnp.full_like(log_prob, jnp.nan)
        outputs["entropy"] = _categorical_entropy(log_probs)
        return actions, log_prob, outputs

    def get_entropy(self, logits: jax.Array, role: str = "") -> jax.Array:
        """Entropy ``(B,)`` of the categorical given by ``logits`` (e.g. ``outputs["net_output"]``)."""
        return _categorical_entropy(_normalized_logits(logits, self._c_unnormalized_log_prob))


class MultiCategoricalMixin(MultiCategoricalMixinBase, _JaxMixinState):
    """One categorical per sub-action of a MultiDiscrete space: ``__call__`` returns ``(net_output, outputs)``."""

    def _split(self, net_output: jax.Array) -> list[jax.Array]:
        chunks = jnp.split(net_output, list(itertools.accumulate(self._mc_sizes))[:-1], axis=-1)
        return [_normalized_logits(chunk, self._mc_unnormalized_log_prob) for chunk in chunks]

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        return self._act("_mc_", inputs, role, params)

    def _mc_act(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple:
        key = inputs["key"]
        net_output, outputs = self.apply(params, inputs, role)
        log_probs = self._split(net_output)
        actions = jnp.stack([jax.random.categorical(key, lp, axis=-1) for lp in log_probs], axis=-1).astype(jnp.int32)
        taken_actions = inputs.get("taken_actions")
        taken_actions = (actions if taken_actions is None else jnp.asarray(taken_actions)).reshape(actions.shape[0], -1)
        log_prob = jnp.concatenate(
            [_categorical_log_prob(lp, taken_actions[:, i]) for i, lp in enumerate(log_probs)], axis=-1
        )
        log_prob = reduce_log_prob(log_prob, self._mc_reduction, actions.ndim)
        outputs["net_output"] = net_output
        outputs["stddev"] = jnp.full_like(log_prob, jnp.nan)
        outputs["entropy"] = self._reduced_entropy(log_probs)
        return actions, log_prob, outputs

    def _reduced_entropy(self, log_probs: list[jax.Array]) -> jax.Array:
        entropy = jnp.stack([_categorical_entropy(lp) for lp in log_probs], axis=-1)
        return reduce_log_prob(entropy, self._mc_reduction, 2)

    def get_entropy(self, logits: jax.Array, role: str = "") -> jax.Array:
        """Sub-action entropies of ``logits`` (the full ``net_output``) reduced to ``(B, 1)`` (``(B, k)`` for "none")."""
        return self._reduced_entropy(self._split(logits))


class DeterministicMixin(DeterministicMixinBase, _JaxMixinState):
    """Deterministic output (values, critics, deterministic policies): ``__call__`` returns ``(output, outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        return self._act("_d_", inputs, role, params, keyed=False)

    def _d_act(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple:
        actions, outputs = self.apply(params, inputs, role)
        return _clip(actions, self._d_clip), None, outputs


class TabularMixin(TabularMixinBase, _JaxMixinState):
    """Tabular model (Q-learning, SARSA): ``__call__(inputs, role)`` returns ``(actions, outputs)`` from the tables.

    Tables are array attributes set after ``TabularMixin.__init__`` (e.g. ``self.q_table = jnp.ones(...)``).
    ``state_dict.params`` is ``{name: table}`` and assigning a state dict replaces them, so checkpoints and
    ``save``/``load`` carry them. ``act(inputs, role, params)`` is traceable: with ``params`` the tables are read
    from it; ``inputs["key"]`` is the PRNG key for exploration (filled from a per-model stream when missing).
    """

    def _is_table(self, value: Any) -> bool:
        return isinstance(value, (jax.Array, np.ndarray))

    def init_state_dict(self, role: str, inputs: Mapping[str, Any] = {}, key: Optional[jax.Array] = None) -> None:
        """Nothing to initialise: the tables exist from construction (kept for the common model workflow)."""
        del role, inputs, key

    @property
    def state_dict(self) -> Any:
        """``StateDict`` whose ``params`` are the tables ``{name: array}``."""
        from skrl.jax.models import StateDict

        return StateDict.create(apply_fn=self.act, params={name: getattr(self, name) for name in self._table_names()})

    @state_dict.setter
    def state_dict(self, value: Any) -> None:
        params = value.params if hasattr(value, "params") else value
        for name, table in params.items():
            self._check_table(name, table)
        for name, table in params.items():
            object.__setattr__(self, name, jax.device_put(jnp.asarray(table), self.device))

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        return self._act("_t_", inputs, role, params)

    def _t_act(self, params: Any, inputs: Mapping[str, Any], role: str) -> tuple:
        saved = {name: getattr(self, name) for name in params}
        try:
            for name, table in params.items():
                object.__setattr__(self, name, table)
            actions, outputs = self.__call__(inputs, role)
        finally:
            for name, table in saved.items():
                object.__setattr__(self, name, table)
        return actions, None, outputs
