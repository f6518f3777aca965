"""Q-learning on FrozenLake-v1 with PyTorch

Four vectorised FrozenLake environments (the deterministic 4x4 map, `is_slippery=False`) sharing one Q-table,
initialised to ones so that untried actions look best, and an epsilon-greedy policy (a `TabularMixin` model) that
explores with probability 0.1. Q-learning bootstraps from the greedy action of the next state. The default budget
(2,000 steps x 4 environments = 8,000 transitions) is enough for the greedy policy to reach the goal (return 1, the
maximum).
"""

import argparse

import gymnasium
import torch

from skrl.agents.torch.q_learning import Q_LEARNING
from skrl.envs.wrappers.torch import wrap_env
from skrl.models.torch import Model, TabularMixin
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed


class EpsilonGreedyPolicy(TabularMixin, Model):
    """The greedy action of one Q-table shared by all environments, a random action with probability epsilon."""

    def __init__(self, observation_space, action_space, device=None, epsilon=0.1):
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs=1)
        self.epsilon = epsilon
        self.q_table = torch.ones((1, self.num_observations, self.num_actions), device=self.device)  # (rows, S, A)

    def compute(self, inputs, role):
        states = inputs["states"].reshape(-1).long()
        actions = self.q_table[0, states].argmax(dim=-1, keepdim=True)
        explore = torch.rand(actions.shape, device=self.device) < self.epsilon
        return torch.where(explore, torch.randint_like(actions, self.num_actions), actions), {}


parser = argparse.ArgumentParser(description="Q-learning on FrozenLake-v1 with PyTorch")
parser.add_argument("--timesteps", type=int, default=2_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec("FrozenLake-v1", num_envs=4, vectorization_mode="sync", is_slippery=False)
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

models = {"policy": EpsilonGreedyPolicy(env.observation_space, env.action_space, env.device)}

cfg = {
    "discount_factor": 0.9,
    "learning_rate": 0.5,
    "experiment": {"directory": "runs/q_learning_frozenlake_torch"},
}
agent = Q_LEARNING(models=models, memory=None, cfg=cfg, observation_space=env.observation_space,
                   action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
