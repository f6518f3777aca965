"""Exploration noises (``GaussianNoise``, ``OrnsteinUhlenbeckNoise``) for each backend."""
