"""DQN and DDQN on JAX: epsilon-greedy acting in one jitted call per env step, all gradient steps of an update in one.

Unlike skrl 1.4.3, epsilon-greedy and ``random_timesteps`` work with both array backends, and DDQN's online
network chooses the next actions with its current parameters (1.4.3 used the ones captured at the first trace).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.dqn import DDQNSchedule, DQNSchedule
from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.jax.agent_base import Agent
from skrl.jax.off_policy_ops import JaxOffPolicy, apply_gradients, mse, polyak_blend, preprocess, scan_update


class DQN(JaxOffPolicy, DQNSchedule, Agent):
    """Deep Q-Network (JAX). Models: ``q_network`` and ``target_q_network`` (deterministic, one output per action)."""

    def _build_optimizers(self) -> None:
        self._setup_training(salt=0xD09)
        if self.models.get("q_network") is not None:
            self._make_optimizer("optimizer", self.models["q_network"], self._off.learning_rate, group="q_network")

    def _q_values(self, role: str, params: Any, states: jax.Array) -> jax.Array:
        return self.models[role].act({"states": states}, role=role, params=params)[0]

    def _act_function(self) -> Callable:
        scaler, num_actions = self._scaler(), self._num_actions

        def act(params: Any, statistics: Any, states: jax.Array, key: jax.Array, epsilon: Any) -> tuple:
            q_values = self._q_values("q_network", params, preprocess(scaler, statistics, states)[0])
            greedy = jnp.argmax(q_values, axis=-1, keepdims=True).astype(jnp.int32)
            key, explore_key, action_key = jax.random.split(key, 3)
            explore = jax.random.uniform(explore_key, greedy.shape) < epsilon
            actions = jnp.where(explore, jax.random.randint(action_key, greedy.shape, 0, num_actions), greedy)
            return key, actions, greedy, q_values

        return act

    def _epsilon_greedy_act(self, states: Any, epsilon: float) -> tuple:
        act = self._compiled("act", self._act_function)
        self._key, actions, greedy, q_values = act(self.q_network.state_dict.params, self._statistics(), states,
                                                   self._key, epsilon)
        actions, outputs = self._host_actions(actions, {"q_values": q_values, "mean_actions": greedy})
        return actions, None, outputs

    def _step(self, carry: dict, xs: tuple) -> tuple:
        batch, lrs = xs
        states, actions, rewards, next_states, terminated, truncated = batch
        params, optimizers, scaler = dict(carry["params"]), dict(carry["optimizers"]), self._scaler()
        states, statistics = preprocess(scaler, carry["statistics"], states, train=True)
        next_states, statistics = preprocess(scaler, statistics, next_states, train=True)
        next_q_values = self._q_values("target_q_network", params["target_q_network"], next_states)
        if self.double:
            chosen = jnp.argmax(self._q_values("q_network", params["q_network"], next_states), axis=-1, keepdims=True)
            next_values = jnp.take_along_axis(next_q_values, chosen, axis=-1)
        else:
            next_values = jnp.max(next_q_values, axis=-1, keepdims=True)
        targets = jax.lax.stop_gradient(td_target(jnp, rewards, terminated, truncated, self._off.discount_factor,
                                                  next_values))
        indexes = actions.astype(jnp.int32)

        def loss_fn(q_params: Any) -> jax.Array:
            q_values = jnp.take_along_axis(self._q_values("q_network", q_params, states), indexes, axis=-1)
            return mse(q_values, targets)

        loss, grad = jax.value_and_grad(loss_fn)(params["q_network"])
        params["q_network"], optimizers["optimizer"] = apply_gradients(
            optimizers["optimizer"], grad, params["q_network"], lrs["q_network"], self._axis_name)
        carry = {**carry, "params": params, "optimizers": optimizers, "statistics": statistics}
        return carry, {"q_network_loss": loss, **value_statistics("target", targets)}

    def _update_function(self) -> Callable:
        polyak = self._off.polyak

        def update(carry: dict, batches: tuple, lrs: dict, update_targets: jax.Array) -> tuple:
            carry, results = scan_update(self._step, carry, batches, lrs)
            params = dict(carry["params"])
            blended = polyak_blend(params["q_network"], params["target_q_network"], polyak)
            params["target_q_network"] = jax.tree_util.tree_map(lambda new, old: jnp.where(update_targets, new, old),
                                                                blended, params["target_q_network"])
            return {**carry, "params": params}, results

        return update

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        carry, results = self._run_update(self._training_carry(), self._sample_batches(plan.steps),
                                          self._step_learning_rates(plan), np.bool_(plan.update_targets))
        self._store_training_carry(carry)
        return [results]


class DDQN(DQN, DDQNSchedule):
    """Double Deep Q-Network (JAX). Models: ``q_network`` and ``target_q_network``."""
