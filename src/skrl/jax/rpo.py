"""RPO on JAX: PPO (``skrl.jax.ppo``, its jitted update included) with RPO's config (``skrl.common.rpo``)."""

from skrl.common.rpo import RPOSchedule
from skrl.jax.ppo import PPO


class RPO(RPOSchedule, PPO):
    """Robust Policy Optimization (JAX): PPO whose models get ``inputs["alpha"]`` (and a PRNG key to perturb with)."""
