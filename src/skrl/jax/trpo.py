"""TRPO on JAX: PPO's rollout (one jitted call per env step, GAE by ``lax.scan``), a trust-region policy step
in one jitted call (conjugate gradient and line search as ``lax.while_loop``) and jitted value mini-batch steps.

The schedule is in ``skrl.common.trpo``. The policy is a JAX Gaussian or Categorical mixin model; the KL
divergence is computed in closed form from its outputs (``mean_actions``/``log_std``, or ``net_output``).

In a distributed run both steps run on every process at once (``skrl.jax.distributed.over_processes``): the
policy step averages the surrogate's gradient, the Fisher-vector products and the surrogate and KL values of the
line search over the processes, the value step its gradients, so that every process takes the same steps.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from skrl.common.trpo import TRPOSchedule
from skrl.jax import distributed
from skrl.jax.device_trees import commit
from skrl.jax.mixins import CategoricalMixin, GaussianMixin, _normalized_logits
from skrl.jax.ppo import PPO


def conjugate_gradient(product: Callable[[jax.Array], jax.Array], b: jax.Array, steps: int,
                       tolerance: float = 1e-10) -> jax.Array:
    """Approximate ``x = A^-1 b`` for a symmetric positive-definite ``A`` given only ``product(v) = A v`` (traceable)."""

    def keep_going(state: tuple) -> jax.Array:
        i, _, _, _, rr = state
        return jnp.logical_and(i < steps, rr >= tolerance)

    def iteration(state: tuple) -> tuple:
        i, x, r, p, rr = state
        ap = product(p)
        alpha = rr / jnp.dot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        new_rr = jnp.dot(r, r)
        return i + 1, x, r, r + (new_rr / rr) * p, new_rr

    return jax.lax.while_loop(keep_going, iteration, (0, jnp.zeros_like(b), b, b, jnp.dot(b, b)))[1]


def _mean_kl(old: tuple, new: tuple) -> jax.Array:
    """``KL(old || new)`` of two policies given as ``(mean, log_std)`` (Gaussian) or ``(log_probs,)``
    (categorical), summed over the action dimensions and averaged over the batch."""
    if len(old) == 2:
        (mean_1, log_std_1), (mean_2, log_std_2) = old, new
        kl = log_std_2 - log_std_1 + (jnp.exp(2 * log_std_1) + jnp.square(mean_1 - mean_2)) / (2 * jnp.exp(2 * log_std_2)) - 0.5
        return jnp.mean(jnp.sum(jnp.broadcast_to(kl, mean_1.shape), axis=-1))
    (log_probs_1,), (log_probs_2,) = old, new
    return jnp.mean(jnp.sum(jnp.exp(log_probs_1) * (log_probs_1 - log_probs_2), axis=-1))


class TRPO(TRPOSchedule, PPO):
    """Trust Region Policy Optimization (JAX). Models: ``policy`` (Gaussian or Categorical) and a separate ``value``."""

    def _ppo_build_optimizers(self) -> None:
        if self.policy is not None and not isinstance(self.policy, (GaussianMixin, CategoricalMixin)):
            raise ValueError("TRPO needs a stochastic policy (a Gaussian or Categorical mixin model). "
                             f"Received: {type(self.policy).__name__}")
        super()._ppo_build_optimizers()
        self.policy_optimizer = None  # the policy moves by natural-gradient steps, not by an optimizer
        self.checkpoint_modules.pop("policy_optimizer", None)
        self._trpo_jitted: dict[str, Any] = {}
        for model in (self.policy, self.value):
            if model is not None:
                model.state_dict = model.state_dict.replace(params=commit(model.state_dict.params, self.device))

    def _distribution(self, outputs: dict) -> tuple:
        if isinstance(self.policy, GaussianMixin):
            return (outputs["mean_actions"], outputs["log_std"])
        return (_normalized_logits(outputs["net_output"], self.policy._c_unnormalized_log_prob),)

    def _trpo_function(self, name: str, function: Callable, locality: tuple) -> Callable:
        """``function`` jitted once (run on every process at once in a distributed run, see ``distributed.jit``)."""
        if name not in self._trpo_jitted:
            self._trpo_jitted[name] = distributed.jit(function, locality)
        return self._trpo_jitted[name]

    def _trpo_policy_step(self, states: Any, actions: Any, log_prob: Any, advantages: Any, extra: Any = None) -> dict:
        """(``extra``: more inputs of every policy call, the RNN variant's states and dones.)"""
        self._key, key = jax.random.split(self._key)
        params = commit(self.policy.state_dict.params, self.device)
        locality = ((False, True, True, True, True, True, True), (False, True))  # the rollout and key: each process's
        params, results = self._trpo_function("policy", self._policy_update, locality)(
            params, states, actions, log_prob, advantages, key, extra or {})
        self.policy.state_dict = self.policy.state_dict.replace(params=params)
        return results

    def _policy_update(self, params: Any, states: jax.Array, actions: jax.Array, log_prob: jax.Array,
                       advantages: jax.Array, key: jax.Array, extra: dict) -> tuple:
        """The whole trust-region step (pure): gradient, conjugate gradient, step size and line search."""
        cfg, axis_name = self._ppo, distributed.process_axis()
        start, unravel = ravel_pytree(params)

        def surrogate(flat: jax.Array) -> tuple:
            inputs = {"states": states, "taken_actions": actions, "key": key, **extra}
            _, new_log_prob, outputs = self.policy.act(inputs, role="policy", params=unravel(flat))
            return jnp.mean(advantages * jnp.exp(new_log_prob - log_prob)), outputs

        (old_surrogate, old_outputs), gradient = jax.value_and_grad(surrogate, has_aux=True)(start)
        old_surrogate, gradient = distributed.process_mean((old_surrogate, gradient), axis_name)
        old = jax.lax.stop_gradient(self._distribution(old_outputs))
        kl_gradient = jax.grad(lambda flat: _mean_kl(old, self._distribution(surrogate(flat)[1])))

        def fisher_product(v: jax.Array) -> jax.Array:
            return distributed.process_mean(jax.jvp(kl_gradient, (start,), (v,))[1], axis_name) + cfg.damping * v

        direction = conjugate_gradient(fisher_product, gradient, cfg.conjugate_gradient_steps)
        curvature = jnp.dot(direction, fisher_product(direction))
        scale = jnp.where(curvature > 0, jnp.sqrt(2 * cfg.max_kl_divergence / jnp.where(curvature > 0, curvature, 1)), 0)
        step = jnp.nan_to_num(direction * scale, nan=0.0, posinf=0.0, neginf=0.0)
        line_search = functools.partial(self._line_search, surrogate, old, start, step, jnp.dot(gradient, step),
                                        axis_name)
        flat, new_surrogate = line_search(old_surrogate)
        stddev = jnp.mean(old_outputs["stddev"]) if "log_std" in old_outputs else jnp.float32(jnp.nan)
        return unravel(flat), {"policy_loss": -new_surrogate, "stddev": stddev}

    def _line_search(self, surrogate: Callable, old: tuple, start: jax.Array, step: jax.Array, expected: jax.Array,
                     axis_name: Any, old_surrogate: jax.Array) -> tuple:
        """Try ``step_fraction * 0.5**i`` of ``step``; keep the first that stays within the KL bound and improves
        the surrogate by at least ``accept_ratio`` of the linear prediction (else keep ``start``). With
        ``axis_name`` both are judged on the surrogate and KL averaged over the processes."""
        cfg = self._ppo

        def keep_going(state: tuple) -> jax.Array:
            return jnp.logical_and(state[0] < cfg.max_backtrack_steps, jnp.logical_not(state[1]))

        def attempt(state: tuple) -> tuple:
            fraction = cfg.step_fraction * jnp.power(0.5, state[0])
            candidate = start + fraction * step
            value, outputs = surrogate(candidate)
            value, kl = distributed.process_mean((value, _mean_kl(old, self._distribution(outputs))), axis_name)
            accepted = jnp.logical_and(kl < cfg.max_kl_divergence,
                                       (value - old_surrogate) / (fraction * expected) > cfg.accept_ratio)
            return state[0] + 1, accepted, jnp.where(accepted, candidate, start), jnp.where(accepted, value, old_surrogate)

        initial = (0, jnp.asarray(False), start, old_surrogate)
        _, _, flat, value = jax.lax.while_loop(keep_going, attempt, initial)
        return flat, value

    def _trpo_value_step(self, states: Any, returns: Any, extra: Any = None) -> jax.Array:
        params, optimizer = commit((self.value.state_dict.params, self.value_optimizer), self.device)
        locality = ((False, False, True, True, False, True), (False, False, True))
        params, self.value_optimizer, loss = self._trpo_function("value", self._value_update, locality)(
            params, optimizer, states, returns, jnp.float32(self._learning_rate), extra or {})
        self.value.state_dict = self.value.state_dict.replace(params=params)
        self.checkpoint_modules["value_optimizer"] = self.value_optimizer
        return loss

    def _value_update(self, params: Any, optimizer: Any, states: jax.Array, returns: jax.Array, lr: jax.Array,
                      extra: dict) -> tuple:
        def loss_fn(p: Any) -> jax.Array:
            predicted = self.value.act({"states": states, **extra}, role="value", params=p)[0]
            return self._ppo.value_loss_scale * jnp.mean(jnp.square(returns - predicted))

        loss, grads = jax.value_and_grad(loss_fn)(params)
        params, optimizer = optimizer.apply_gradients(distributed.process_mean(grads, distributed.process_axis()),
                                                      params, lr)
        return params, optimizer, loss
