"""RPO on torch: PPO (``skrl.torch.ppo``) with RPO's config (``skrl.common.rpo``)."""

from skrl.common.rpo import RPOSchedule
from skrl.torch.ppo import PPO


class RPO(RPOSchedule, PPO):
    """Robust Policy Optimization (torch): PPO whose models get ``inputs["alpha"]``; the policy perturbs its mean."""
