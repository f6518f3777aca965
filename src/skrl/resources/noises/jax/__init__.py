"""Noises for jax agents (e.g. DDPG/TD3 exploration and TD3 target smoothing)."""

from skrl.jax.noises import GaussianNoise, Noise, OrnsteinUhlenbeckNoise

__all__ = [
    "GaussianNoise",
    "Noise",
    "OrnsteinUhlenbeckNoise",
]
