"""A2C on torch: PPO's rollout and update code (``skrl.torch.ppo``) with A2C's schedule and policy loss."""

import torch

from skrl.common.a2c import A2CSchedule
from skrl.torch.ppo import PPO


class A2C(A2CSchedule, PPO):
    """Advantage Actor-Critic (torch). Models: ``policy`` (stochastic) and ``value`` (deterministic, may be shared)."""

    def _policy_loss(self, log_prob: torch.Tensor, log_ratio: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
        return -(advantages * log_prob).mean()
