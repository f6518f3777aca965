"""Noises for torch agents (e.g. DDPG/TD3 exploration and TD3 target smoothing)."""

from skrl.torch.noises import GaussianNoise, Noise, OrnsteinUhlenbeckNoise

__all__ = [
    "GaussianNoise",
    "Noise",
    "OrnsteinUhlenbeckNoise",
]
