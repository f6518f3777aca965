"""CEM on JAX: one jitted call per env step for acting and one per update for the maximum-likelihood step.

The schedule is in ``skrl.common.cem``. The step is weighted over every row of the rollout (1 for elite rows,
0 otherwise), so that its shapes never change and it compiles once.
"""

from __future__ import annotations

from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.cem import CEMSchedule
from skrl.jax.agent_base import Agent
from skrl.jax.device_trees import commit


class CEM(CEMSchedule, Agent):
    """Cross-Entropy Method (JAX). Model: ``policy`` (stochastic, e.g. Categorical over a Discrete action space)."""

    _float_dtype = np.float32
    _int_dtype = np.int32
    _bool_dtype = np.bool_

    def _cem_build_optimizer(self) -> None:
        from skrl.resources.optimizers.jax import Adam

        self._jax = config.jax.backend == "jax"
        self._key = commit(jax.random.fold_in(config.jax.key, 0x43454D), self.device)  # the agent's own stream
        factory = self.cfg["learning_rate_scheduler"]
        self.scheduler = factory(**self.cfg["learning_rate_scheduler_kwargs"]) if factory else None
        self.optimizer = None
        if self.policy is not None:
            self.policy.state_dict = self.policy.state_dict.replace(params=commit(self.policy.state_dict.params, self.device))
            with jax.default_device(self.device):
                self.optimizer = commit(Adam(model=self.policy, lr=self._learning_rate), self.device)
            self.checkpoint_modules["optimizer"] = self.optimizer
        self._act_jitted = jax.jit(self._act_pure)
        self._fit_jitted = jax.jit(self._fit_pure)

    def _act_pure(self, params: Any, states: jax.Array, key: jax.Array) -> tuple:
        key, subkey = jax.random.split(key)
        actions, log_prob, outputs = self.policy.act({"states": states, "key": subkey}, role="policy", params=params)
        return key, actions, log_prob, outputs

    def _cem_act(self, states: Any, random: bool) -> tuple:
        states = self._state_preprocessor(states)
        if random:
            return self.policy.random_act({"states": states}, role="policy")
        self._key, actions, log_prob, outputs = self._act_jitted(self.policy.state_dict.params, states, self._key)
        if not self._jax:
            actions, log_prob = jax.device_get((actions, log_prob))
        return actions, log_prob, outputs

    def _cem_to_numpy(self, tensor: Any) -> np.ndarray:
        return np.asarray(jax.device_get(tensor))

    def _fit_pure(self, params: Any, optimizer: Any, states: jax.Array, actions: jax.Array, weights: jax.Array,
                  key: jax.Array, lr: jax.Array) -> tuple:
        def loss_fn(p: Any) -> jax.Array:
            inputs = {"states": states, "taken_actions": actions, "key": key}
            _, log_prob, _ = self.policy.act(inputs, role="policy", params=p)
            return -jnp.sum(weights * log_prob) / jnp.sum(weights)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        params, optimizer = optimizer.apply_gradients(grads, params, lr)
        return params, optimizer, loss

    def _cem_fit(self, states: Any, actions: Any, weights: np.ndarray) -> jax.Array:
        self._key, key = jax.random.split(self._key)
        params, self.optimizer, loss = self._fit_jitted(self.policy.state_dict.params, self.optimizer, states, actions,
                                                        weights, key, jnp.float32(self._learning_rate))
        self.policy.state_dict = self.policy.state_dict.replace(params=params)
        self.checkpoint_modules["optimizer"] = self.optimizer
        return loss

    def _cem_step_scheduler(self, timestep: int) -> None:
        """A factor of the configured rate at this timestep (skrl 1.4.3 compounded it at every update)."""
        if self.scheduler is not None:
            self._learning_rate = float(self._cem.learning_rate * self.scheduler(timestep))

    def _cem_learning_rate(self) -> Optional[float]:
        return self._learning_rate if self.scheduler is not None else None
