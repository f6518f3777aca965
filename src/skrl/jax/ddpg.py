"""DDPG and TD3 on JAX: one jitted call per env step (policy, noise, clipping), one per update (all gradient steps).

One class serves both: the critic roles, the smoothing noise and the policy delay come from the schedule
(``common.ddpg``). Each critic has its own optimizer (``critic_optimizer`` for DDPG, ``critic_1_optimizer`` and
``critic_2_optimizer`` for TD3, the skrl 1.4.3 JAX names), stepped with its own gradient.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.ddpg import DDPGSchedule, TD3Schedule
from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.common.spaces import compute_space_size
from skrl.jax.agent_base import Agent
from skrl.jax.off_policy_ops import (
    JaxOffPolicy,
    apply_gradients,
    critic_values,
    polyak_blend,
    preprocess,
    scan_update,
    update_critics,
)


class _DeterministicActorCritic(JaxOffPolicy):
    """DDPG/TD3 array work on JAX."""

    def _build_optimizers(self) -> None:
        self._setup_training(salt=0xDD96)
        self._clip_actions = self._action_clipper(self._action_bounds)
        self._action_size = int(compute_space_size(self.action_space)) if self.action_space is not None else 0
        critics = [self.models.get(role) for role in self.critic_roles]
        if self.models.get("policy") is None or None in critics:
            return
        cfg = self._off
        self._make_optimizer("policy_optimizer", self.models["policy"], cfg.actor_learning_rate, cfg.grad_norm_clip,
                             group="policy")
        for name, critic in zip(self._critic_optimizer_names(), critics):
            self._make_optimizer(name, critic, cfg.critic_learning_rate, cfg.grad_norm_clip, group="critic")

    # ---- acting -----------------------------------------------------------------------------------------------

    def _act_function(self, noisy: bool) -> Callable:
        policy, scaler, noise, clip_actions = self.policy, self._scaler(), self._exploration_noise, self._clip_actions

        def act(params: Any, statistics: Any, states: jax.Array, key: jax.Array, noise_state: Any, scale: Any,
                extra: dict) -> tuple:
            actions, _, outputs = policy.act({"states": preprocess(scaler, statistics, states)[0], **extra},
                                             role="policy", params=params)
            outputs = {**(outputs or {}), "mean_actions": actions}
            if not noisy:
                return key, actions, outputs, noise_state, None
            key, subkey = jax.random.split(key)
            sample, noise_state = noise.transition(subkey, noise_state, actions.shape)
            noises = scale * sample
            return key, clip_actions(actions + noises), outputs, noise_state, (noises.max(), noises.min(), noises.mean())

        return act

    def _deterministic_act(self, states: Any, scale: Optional[float]) -> tuple:
        noisy = scale is not None
        noise_state = None
        if noisy:
            noise_state = self._exploration_noise.initial_state((int(np.shape(states)[0]), self._action_size))
        act = self._compiled(f"act_{noisy}", functools.partial(self._act_function, noisy))
        self._key, actions, outputs, noise_state, statistics = act(
            self.policy.state_dict.params, self._statistics(), states, self._key, noise_state, scale or 0.0,
            self._act_inputs())
        if noisy:
            self._exploration_noise.commit_state(noise_state)
        actions, outputs = self._host_actions(actions, outputs)
        return actions, outputs, statistics

    # ---- update -------------------------------------------------------------------------------------------------

    def _smoothed_next_actions(self, params: Any, next_states: jax.Array, key: jax.Array, smooth_state: Any,
                               extra: dict) -> tuple:
        next_actions = self.target_policy.act({"states": next_states, **extra}, role="target_policy",
                                              params=params["target_policy"])[0]
        if self._smooth_noise is None:
            return next_actions, key, smooth_state
        key, subkey = jax.random.split(key)
        sample, smooth_state = self._smooth_noise.transition(subkey, smooth_state, next_actions.shape)
        clip = self._off.smooth_regularization_clip
        return self._clip_actions(next_actions + jnp.clip(sample, -clip, clip)), key, smooth_state

    def _policy_update(self, states: jax.Array, lr: Any, extra: dict) -> Callable:
        """The delayed branch: a policy step on ``-Q1(s, mu(s))``, then every target blended."""
        models, cfg, critic = self.models, self._off, self.critic_roles[0]

        def branch(operand: tuple) -> tuple:
            params, optimizers = dict(operand[0]), dict(operand[1])

            def loss_fn(policy_params: Any) -> jax.Array:
                actions = models["policy"].act({"states": states, **extra}, role="policy", params=policy_params)[0]
                return -critic_values(models, (critic,), params, states, actions, extra)[0].mean()

            loss, grad = jax.value_and_grad(loss_fn)(params["policy"])
            params["policy"], optimizers["policy_optimizer"] = apply_gradients(
                optimizers["policy_optimizer"], grad, params["policy"], lr, self._axis_name)
            for target, source in self.target_roles.items():
                params[target] = polyak_blend(params[source], params[target], cfg.polyak)
            return params, optimizers, loss

        return branch

    def _step(self, carry: dict, xs: tuple) -> tuple:
        batch, (lrs, update_policy) = xs
        (states, actions, rewards, next_states, terminated, truncated), extra = self._batch_inputs(batch)
        params, optimizers, scaler = dict(carry["params"]), dict(carry["optimizers"]), self._scaler()
        states, statistics = preprocess(scaler, carry["statistics"], states, train=True)
        next_states, statistics = preprocess(scaler, statistics, next_states, train=True)
        next_actions, key, smooth_state = self._smoothed_next_actions(params, next_states, carry["key"], carry["smooth"],
                                                                   extra)
        next_values = functools.reduce(jnp.minimum, critic_values(self.models, self.target_critic_roles, params,
                                                                  next_states, next_actions, extra))
        targets = jax.lax.stop_gradient(td_target(jnp, rewards, terminated, truncated, self._off.discount_factor,
                                                  next_values))
        losses, values = update_critics(self.models, self.critic_roles, self._critic_optimizer_names(), params,
                                        optimizers, (states, actions), targets, lrs["critic"], self._axis_name, extra)
        params, optimizers, policy_loss = jax.lax.cond(
            update_policy, self._policy_update(states, lrs["policy"], extra),
            lambda operand: (*operand, jnp.zeros((), jnp.float32)), (params, optimizers))
        results = {"critic_loss": sum(losses), "policy_loss": policy_loss, **value_statistics("target", targets)}
        for i, value in enumerate(values):
            results.update(value_statistics(f"q{i + 1}", value))
        carry = {**carry, "params": params, "optimizers": optimizers, "statistics": statistics, "key": key,
                 "smooth": smooth_state}
        return carry, results

    def _update_function(self) -> Callable:
        def update(carry: dict, batches: tuple, lrs: dict, policy_updates: jax.Array) -> tuple:
            return scan_update(self._step, carry, batches, (lrs, policy_updates), {"policy_loss": policy_updates})

        return update

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        batches = self._sample_batches(plan.steps)
        smooth_state = None
        if self._smooth_noise is not None:
            smooth_state = self._smooth_noise.initial_state((int(np.shape(batches[0][0])[0]), self._action_size))
        carry = self._training_carry({"smooth": smooth_state})
        carry, results = self._run_update(carry, batches, self._step_learning_rates(plan),
                                          np.asarray(plan.policy_updates))
        self._store_training_carry(carry)
        if self._smooth_noise is not None:
            self._smooth_noise.commit_state(carry["smooth"])
        return [results]


class DDPG(_DeterministicActorCritic, DDPGSchedule, Agent):
    """Deep Deterministic Policy Gradient (JAX). Models: ``policy``, ``target_policy`` (deterministic actors);
    ``critic``, ``target_critic`` (one output from ``states`` and ``taken_actions``)."""


class TD3(_DeterministicActorCritic, TD3Schedule, Agent):
    """Twin Delayed DDPG (JAX). Models: ``policy``, ``target_policy``, ``critic_1``, ``critic_2``,
    ``target_critic_1``, ``target_critic_2``."""
