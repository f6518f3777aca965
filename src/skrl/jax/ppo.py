"""PPO on JAX: one jitted call per env step (act + value), GAE by ``lax.scan``, one jitted call per mini-batch.

The schedule (rollouts, epochs, mini-batches, KL early stop, tracked tags) is in ``skrl.common.ppo``.
Nothing here syncs with the host per env step beyond handing the actions to a host environment.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.ppo import PPOSchedule
from skrl.jax.agent_base import Agent


@functools.partial(jax.jit, static_argnames=("discount_factor", "lambda_coefficient"))
def compute_gae(rewards: jax.Array, dones: jax.Array, values: jax.Array, next_values: jax.Array,
                discount_factor: float, lambda_coefficient: float) -> tuple[jax.Array, jax.Array]:
    """Returns and normalised advantages over a ``(T, N, 1)`` rollout; compile time does not grow with ``T``."""
    not_dones = 1.0 - dones.astype(jnp.float32)
    following = jnp.concatenate([values[1:], next_values[None]], axis=0)

    def step(advantage: jax.Array, row: tuple) -> tuple:
        reward, not_done, value, next_value = row
        advantage = reward - value + discount_factor * not_done * (next_value + lambda_coefficient * advantage)
        return advantage, advantage

    _, advantages = jax.lax.scan(step, jnp.zeros_like(rewards[0]), (rewards, not_dones, values, following), reverse=True)
    returns = advantages + values
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    return returns, advantages


def _scaler_spec(preprocessor: Any) -> Optional[tuple]:
    """Static description of a preprocessor for jitted code: None (identity) or (clip_threshold, epsilon)."""
    if hasattr(preprocessor, "params") and hasattr(preprocessor, "apply"):
        return (preprocessor.clip_threshold, preprocessor.epsilon)
    return None


def _preprocess(spec: Optional[tuple], params: Any, x: jax.Array, inverse: bool = False) -> jax.Array:
    if spec is None:
        return x
    from skrl.resources.preprocessors.jax.running_standard_scaler import standardize

    return standardize(params, x, inverse, spec[0], spec[1])


def _update_stats(spec: Optional[tuple], params: Any, x: jax.Array) -> Any:
    if spec is None:
        return params
    from skrl.resources.preprocessors.jax.running_standard_scaler import update

    return update(params, x)


class PPO(PPOSchedule, Agent):
    """Proximal Policy Optimization (JAX). Models: ``policy`` (stochastic) and ``value`` (deterministic)."""

    _float_dtype = np.float32
    _bool_dtype = np.bool_

    def _ppo_build_optimizers(self) -> None:
        from skrl.resources.optimizers.jax import Adam
        from skrl.resources.schedulers.jax import KLAdaptiveLR, kl_adaptive

        self._jax = config.jax.backend == "jax"
        self._key = jax.random.fold_in(config.jax.key, 0x5350)  # the agent's own stream, split inside jit
        self._current_values: Any = None
        self._jitted: dict[str, Any] = {}
        factory = self.cfg["learning_rate_scheduler"]
        self._kl_schedule = factory is KLAdaptiveLR or factory is kl_adaptive
        self.scheduler = factory(**self.cfg["learning_rate_scheduler_kwargs"]) if factory else None
        self._scaled = self.scheduler is None
        self.policy_optimizer = self.value_optimizer = None
        if self.policy is not None and self.value is not None:
            clip = self._ppo.grad_norm_clip
            with jax.default_device(self.device):
                self.policy_optimizer = Adam(model=self.policy, lr=self._learning_rate, grad_norm_clip=clip, scale=self._scaled)
                self.value_optimizer = Adam(model=self.value, lr=self._learning_rate, grad_norm_clip=clip, scale=self._scaled)
            self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
            self.checkpoint_modules["value_optimizer"] = self.value_optimizer

    # ---- jitted functions (built once per agent: the models' apply functions are closed over) ----------------

    def _specs(self) -> tuple:
        return _scaler_spec(self._state_preprocessor), _scaler_spec(self._value_preprocessor)

    def _stats(self) -> tuple:
        state_spec, value_spec = self._specs()
        return (self._state_preprocessor.params if state_spec else None,
                self._value_preprocessor.params if value_spec else None)

    def _act_function(self) -> Any:
        if "act" not in self._jitted:
            policy, value = self.policy, self.value
            state_spec, value_spec = self._specs()

            def act(policy_params: Any, value_params: Any, stats: tuple, states: jax.Array, key: jax.Array) -> tuple:
                key, subkey = jax.random.split(key)
                inputs = {"states": _preprocess(state_spec, stats[0], states)}
                actions, log_prob, outputs = policy.act({**inputs, "key": subkey}, role="policy", params=policy_params)
                values = value.act(inputs, role="value", params=value_params)[0]
                return key, actions, log_prob, outputs, _preprocess(value_spec, stats[1], values, inverse=True)

            self._jitted["act"] = jax.jit(act)
        return self._jitted["act"]

    def _value_function(self) -> Any:
        if "value" not in self._jitted:
            value = self.value
            state_spec, value_spec = self._specs()

            def values_of(value_params: Any, stats: tuple, states: jax.Array) -> jax.Array:
                values = value.act({"states": _preprocess(state_spec, stats[0], states)}, role="value", params=value_params)[0]
                return _preprocess(value_spec, stats[1], values, inverse=True)

            self._jitted["value"] = jax.jit(values_of)
        return self._jitted["value"]

    # ---- interaction ---------------------------------------------------------------------------------------------

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """Sample actions for ``states`` in one jitted call; returns ``(actions, log_prob, outputs)``."""
        if timestep < self._random_timesteps:
            return self._random_act(states)
        self._key, actions, log_prob, outputs, values = self._act_function()(
            self.policy.state_dict.params, self.value.state_dict.params if self.value is not None else None,
            self._stats(), states, self._key)
        if not self._jax:  # host env and NumPy memory: one transfer for what the step needs; outputs stay lazy
            actions, log_prob, values = jax.device_get((actions, log_prob, values))
        self._current_log_prob, self._current_values = log_prob, values
        return actions, log_prob, outputs

    def _random_act(self, states: Any) -> Any:
        state_spec, _ = self._specs()
        inputs = {"states": _preprocess(state_spec, self._stats()[0], jnp.asarray(states))}
        actions = self.policy.random_act(inputs, role="policy")[0]
        self._key, subkey = jax.random.split(self._key)
        _, log_prob, outputs = self.policy.act({**inputs, "taken_actions": actions, "key": subkey}, role="policy")
        self._current_log_prob = log_prob if self._jax else np.asarray(log_prob)
        self._current_values = None
        return actions, self._current_log_prob, outputs

    def _ppo_values_of(self, states: Any) -> Any:
        values, self._current_values = self._current_values, None  # computed by act() in the same jitted call
        if values is None:
            values = self._value_function()(self.value.state_dict.params, self._stats(), states)
            values = values if self._jax else np.asarray(values)
        return values

    # ---- update hooks --------------------------------------------------------------------------------------------

    def _ppo_compute_advantages(self) -> None:
        last_values = self._value_function()(self.value.state_dict.params, self._stats(), self._current_next_states)
        memory = self.memory
        dones = jnp.logical_or(jnp.asarray(memory.get_tensor_by_name("terminated")),
                               jnp.asarray(memory.get_tensor_by_name("truncated")))
        values = jnp.asarray(memory.get_tensor_by_name("values"))
        returns, advantages = compute_gae(jnp.asarray(memory.get_tensor_by_name("rewards")), dones, values, last_values,
                                          float(self._discount_factor), float(self._lambda))
        values = self._value_preprocessor(values, train=True)
        returns = self._value_preprocessor(returns, train=True)
        convert = (lambda x: x) if self._jax else np.asarray
        memory.set_tensor_by_name("values", convert(values))
        memory.set_tensor_by_name("returns", convert(returns))
        memory.set_tensor_by_name("advantages", convert(advantages))

    def _ppo_permutation(self, size: int) -> np.ndarray:
        return np.random.permutation(size)

    def _train_function(self, update_stats: bool) -> Any:
        name = f"train_{update_stats}"
        if name not in self._jitted:
            self._jitted[name] = jax.jit(functools.partial(self._train_step, update_stats=update_stats))
        return self._jitted[name]

    def _train_step(self, params: tuple, optimizers: tuple, stats: Any, batch: tuple, key: jax.Array,
                    lr: jax.Array, update_stats: bool) -> tuple:
        """One PPO mini-batch step (pure): losses, gradients, clipped Adam steps for policy and value."""
        cfg, (policy_params, value_params) = self._ppo, params
        state_spec, _ = self._specs()
        states, actions, old_log_prob, old_values, returns, advantages = batch
        if update_stats:
            stats = _update_stats(state_spec, stats, states)
        states = _preprocess(state_spec, stats, states)

        def policy_loss_fn(p: Any) -> tuple:
            _, log_prob, outputs = self.policy.act({"states": states, "taken_actions": actions, "key": key},
                                                   role="policy", params=p)
            log_ratio = log_prob - old_log_prob
            kl = jax.lax.stop_gradient(jnp.mean((jnp.exp(log_ratio) - 1) - log_ratio))
            ratio = jnp.exp(log_ratio)
            clipped = jnp.clip(ratio, 1.0 - cfg.ratio_clip, 1.0 + cfg.ratio_clip)
            policy_loss = -jnp.mean(jnp.minimum(advantages * ratio, advantages * clipped))
            entropy_loss = -cfg.entropy_loss_scale * jnp.mean(outputs["entropy"]) if cfg.entropy_loss_scale else 0.0
            stddev = jnp.mean(outputs["stddev"]) if "stddev" in outputs else jnp.nan
            return policy_loss + entropy_loss, (policy_loss, entropy_loss, kl, stddev)

        def value_loss_fn(p: Any) -> jax.Array:
            predicted = self.value.act({"states": states}, role="value", params=p)[0]
            if cfg.clip_predicted_values:
                predicted = old_values + jnp.clip(predicted - old_values, -cfg.value_clip, cfg.value_clip)
            return cfg.value_loss_scale * jnp.mean((returns - predicted) ** 2)

        (_, (policy_loss, entropy_loss, kl, stddev)), policy_grads = jax.value_and_grad(policy_loss_fn, has_aux=True)(policy_params)
        value_loss, value_grads = jax.value_and_grad(value_loss_fn)(value_params)
        lr = None if self._scaled else lr  # with a scheduler the agent's rate is applied to raw Adam directions
        new_policy = optimizers[0].apply_gradients(policy_grads, policy_params, lr)
        new_value = optimizers[1].apply_gradients(value_grads, value_params, lr)
        stopped = jnp.logical_and(cfg.kl_threshold > 0, kl > cfg.kl_threshold)  # KL early stop: keep the old state
        keep = lambda new, old: jax.tree_util.tree_map(lambda n, o: jnp.where(stopped, o, n), new, old)  # noqa: E731
        policy_params, policy_optimizer = keep(new_policy, (policy_params, optimizers[0]))
        value_params, value_optimizer = keep(new_value, (value_params, optimizers[1]))
        losses = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": jnp.asarray(entropy_loss, jnp.float32),
                  "kl": kl, "stddev": stddev, "stopped": stopped}
        return (policy_params, value_params), (policy_optimizer, value_optimizer), stats, losses

    def _ppo_train_minibatch(self, batch: Any, epoch: int) -> dict:
        state_spec, _ = self._specs()
        self._key, subkey = jax.random.split(self._key)
        params = (self.policy.state_dict.params, self.value.state_dict.params)
        optimizers = (self.policy_optimizer, self.value_optimizer)
        stats = self._state_preprocessor.params if state_spec else None
        params, optimizers, stats, losses = self._train_function(epoch == 0 and state_spec is not None)(
            params, optimizers, stats, tuple(batch), subkey, jnp.float32(self._learning_rate))
        self.policy.state_dict = self.policy.state_dict.replace(params=params[0])
        self.value.state_dict = self.value.state_dict.replace(params=params[1])
        self.policy_optimizer, self.value_optimizer = optimizers
        self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
        self.checkpoint_modules["value_optimizer"] = self.value_optimizer
        if state_spec:
            self._state_preprocessor.params = stats
        return losses

    def _ppo_step_scheduler(self, timestep: int, kls: list) -> None:
        if self.scheduler is None:
            return
        if self._kl_schedule:
            mean_kl = float(np.mean(jax.device_get(kls))) if kls else None
            self._learning_rate = float(self.scheduler(timestep, self._learning_rate, mean_kl))
        else:  # a factor of the configured rate at this timestep (skrl 1.4.3 compounded it at every epoch)
            self._learning_rate = float(self._ppo.learning_rate * self.scheduler(timestep))

    def _ppo_learning_rate(self) -> Optional[float]:
        return self._learning_rate if self.scheduler is not None else None

    def _ppo_mean(self, values: list) -> jax.Array:
        return jnp.mean(jnp.stack(values))
