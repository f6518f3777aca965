"""A2C on JAX: PPO's jitted rollout and update (``skrl.jax.ppo``) with A2C's schedule and policy loss."""

import jax
import jax.numpy as jnp

from skrl.common.a2c import A2CSchedule
from skrl.jax.ppo import PPO
from skrl.jax.ppo_functions import PPOFunctions


class A2CFunctions(PPOFunctions):
    """PPO's pure functions with the plain policy gradient and contiguous mini-batches."""

    shuffle = False

    def surrogate_loss(self, log_prob: jax.Array, log_ratio: jax.Array, advantages: jax.Array) -> jax.Array:
        del log_ratio
        return -jnp.mean(advantages * log_prob)


class A2C(A2CSchedule, PPO):
    """Advantage Actor-Critic (JAX). Models: ``policy`` (stochastic) and ``value`` (deterministic)."""

    functions_class = A2CFunctions
