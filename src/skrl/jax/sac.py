"""SAC on JAX: one jitted call per env step, one per update (all gradient steps), learned entropy coefficient.

Each critic has its own optimizer (``critic_1_optimizer``, ``critic_2_optimizer``) stepped with its own gradient
(skrl 1.4.3 stepped both with critic_2's). The entropy coefficient is ``exp(log_entropy_coefficient)`` whose
``state_dict.params`` is ``{"params": [log alpha]}`` (the skrl 1.4.3 layout its ``entropy_optimizer`` state has).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.common.sac import SACSchedule, log_entropy_coefficient
from skrl.jax.agent_base import Agent
from skrl.jax.models import StateDict
from skrl.jax.off_policy_ops import (
    JaxOffPolicy,
    apply_gradients,
    critic_values,
    polyak_blend,
    preprocess,
    scan_update,
    update_critics,
)


class LogEntropyCoefficient:
    """The learned ``log(alpha)``: ``state_dict.params == {"params": array([log alpha])}``."""

    def __init__(self, initial_entropy_value: float, device: Any) -> None:
        with jax.default_device(device):
            value = jnp.full((1,), log_entropy_coefficient(initial_entropy_value), dtype=jnp.float32)
        self.state_dict = StateDict.create(apply_fn=None, params={"params": value})

    @property
    def value(self) -> jax.Array:
        """``log(alpha)`` as an array of shape (1,)."""
        return self.state_dict.params["params"]


class SAC(JaxOffPolicy, SACSchedule, Agent):
    """Soft Actor-Critic (JAX). Models: ``policy`` (stochastic, e.g. Gaussian), ``critic_1``, ``critic_2``,
    ``target_critic_1``, ``target_critic_2`` (one output from ``states`` and ``taken_actions``)."""

    def _build_optimizers(self) -> None:
        self._setup_training(salt=0x5AC)
        cfg = self._off
        if cfg.learn_entropy:
            self.log_entropy_coefficient = LogEntropyCoefficient(cfg.initial_entropy_value, self.device)
            self._make_optimizer("entropy_optimizer", self.log_entropy_coefficient, cfg.entropy_learning_rate)
        critics = [self.models.get(role) for role in self.critic_roles]
        if self.models.get("policy") is None or None in critics:
            return
        self._make_optimizer("policy_optimizer", self.models["policy"], cfg.actor_learning_rate, cfg.grad_norm_clip,
                             group="policy")
        for name, critic in zip(self._critic_optimizer_names(), critics):
            self._make_optimizer(name, critic, cfg.critic_learning_rate, cfg.grad_norm_clip, group="critic")

    def _act_function(self) -> Callable:
        policy, scaler = self.policy, self._scaler()

        def act(params: Any, statistics: Any, states: jax.Array, key: jax.Array, extra: dict) -> tuple:
            key, subkey = jax.random.split(key)
            inputs = {"states": preprocess(scaler, statistics, states)[0], "key": subkey, **extra}
            actions, _, outputs = policy.act(inputs, role="policy", params=params)
            return key, actions, outputs

        return act

    def _stochastic_act(self, states: Any) -> tuple:
        act = self._compiled("act", self._act_function)
        self._key, actions, outputs = act(self.policy.state_dict.params, self._statistics(), states, self._key,
                                          self._act_inputs())
        actions, outputs = self._host_actions(actions, outputs)
        return actions, None, outputs

    def _alpha(self, entropy: Any) -> Any:
        return jnp.exp(entropy["params"]) if self._off.learn_entropy else self._off.initial_entropy_value

    def _min_value(self, roles: tuple, params: Mapping[str, Any], states: jax.Array, actions: jax.Array,
                   extra: Mapping[str, Any]) -> jax.Array:
        return jnp.minimum(*critic_values(self.models, roles, params, states, actions, extra))

    def _step(self, carry: dict, xs: tuple) -> tuple:
        batch, lrs = xs
        (states, actions, rewards, next_states, terminated, truncated), extra = self._batch_inputs(batch)
        params, optimizers, policy, scaler = dict(carry["params"]), dict(carry["optimizers"]), self.policy, self._scaler()
        key, next_key, policy_key = jax.random.split(carry["key"], 3)
        states, statistics = preprocess(scaler, carry["statistics"], states, train=True)
        next_states, statistics = preprocess(scaler, statistics, next_states, train=True)
        alpha = self._alpha(carry["entropy"])
        next_actions, next_log_prob, _ = policy.act({"states": next_states, "key": next_key, **extra}, role="policy",
                                                    params=params["policy"])
        next_values = (self._min_value(self.target_critic_roles, params, next_states, next_actions, extra)
                       - alpha * next_log_prob)
        targets = jax.lax.stop_gradient(td_target(jnp, rewards, terminated, truncated, self._off.discount_factor,
                                                  next_values))
        losses, values = update_critics(self.models, self.critic_roles, self._critic_optimizer_names(), params,
                                        optimizers, (states, actions), targets, lrs["critic"], self._axis_name, extra)

        def policy_loss_fn(policy_params: Any) -> tuple:
            new_actions, log_prob, _ = policy.act({"states": states, "key": policy_key, **extra}, role="policy",
                                                  params=policy_params)
            values = self._min_value(self.critic_roles, params, states, new_actions, extra)
            return (alpha * log_prob - values).mean(), log_prob

        (policy_loss, log_prob), grad = jax.value_and_grad(policy_loss_fn, has_aux=True)(params["policy"])
        params["policy"], optimizers["policy_optimizer"] = apply_gradients(
            optimizers["policy_optimizer"], grad, params["policy"], lrs["policy"], self._axis_name)
        results = {"critic_loss": (losses[0] + losses[1]) / 2, "policy_loss": policy_loss,
                   **value_statistics("q1", values[0]), **value_statistics("q2", values[1]),
                   **value_statistics("target", targets)}
        entropy = carry["entropy"]
        if self._off.learn_entropy:
            entropy, optimizers, results = self._entropy_step(entropy, optimizers, log_prob, results)
        for target, source in self.target_roles.items():
            params[target] = polyak_blend(params[source], params[target], self._off.polyak)
        carry = {**carry, "params": params, "optimizers": optimizers, "statistics": statistics, "key": key,
                 "entropy": entropy}
        return carry, results

    def _entropy_step(self, entropy: Any, optimizers: dict, log_prob: jax.Array, results: dict) -> tuple:
        """A step on ``-mean(log alpha · (log pi + target entropy))`` (log pi held constant)."""
        shift = jax.lax.stop_gradient(log_prob + self._target_entropy)
        loss, grad = jax.value_and_grad(lambda e: -(e["params"] * shift).mean())(entropy)
        entropy, optimizers["entropy_optimizer"] = apply_gradients(optimizers["entropy_optimizer"], grad, entropy,
                                                                   axis_name=self._axis_name)
        coefficient = self._alpha(entropy).mean()
        return entropy, optimizers, {**results, "entropy_loss": loss, "entropy_coefficient": coefficient}

    def _update_function(self) -> Callable:
        def update(carry: dict, batches: tuple, lrs: dict) -> tuple:
            return scan_update(self._step, carry, batches, lrs)

        return update

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        batches = self._sample_batches(plan.steps)
        entropy = self.log_entropy_coefficient.state_dict.params if self._off.learn_entropy else None
        carry, results = self._run_update(self._training_carry({"entropy": entropy}), batches,
                                          self._step_learning_rates(plan))
        self._store_training_carry(carry)
        if self._off.learn_entropy:
            holder = self.log_entropy_coefficient
            holder.state_dict = holder.state_dict.replace(params=carry["entropy"])
        return [results]

    def _algorithm_state(self) -> dict:
        state = super()._algorithm_state()
        if self._off.learn_entropy:
            state["log_entropy_coefficient"] = np.asarray(jax.device_get(self.log_entropy_coefficient.value))
        return state

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)
        if self._off.learn_entropy and "log_entropy_coefficient" in state:
            value = jnp.asarray(np.asarray(state["log_entropy_coefficient"], dtype=np.float32))
            holder = self.log_entropy_coefficient
            holder.state_dict = holder.state_dict.replace(params={"params": jax.device_put(value, self.device)})
