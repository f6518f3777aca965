"""RPO on Pendulum-v1 with PyTorch

Four vectorised Pendulum environments, a Gaussian policy written as a model class (RPO needs the policy to perturb
its mean action by uniform noise in [-alpha, alpha], with the `alpha` the agent gives every call) and a value
function from the model instantiators (64x64 tanh MLPs), observations and returns standardised by running scalers
and a KL-adaptive learning rate. RPO is PPO with that perturbation, which keeps the policy exploring; on Pendulum's
torques in [-2, 2] a small alpha (0.1) works, larger ones (0.2, 0.5) kept this budget from learning. The default
budget (50,000 steps x 4 environments = 200,000 transitions) reaches an evaluation return of about -140 to -190
(both backends; a random policy scores about -1,200).
"""

import argparse

import gymnasium
import torch
import torch.nn as nn

from skrl.agents.torch.rpo import RPO
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import GaussianMixin, Model
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.torch import deterministic_model


class Policy(GaussianMixin, Model):
    """Mean torques in [-2, 2], perturbed by RPO's uniform noise, and a state-independent log standard deviation."""

    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions=True)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, self.num_actions), nn.Tanh())
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        mean = 2 * self.net(inputs["states"])
        if "alpha" in inputs:  # RPO's `alpha` (config key), given with the states
            mean = mean + torch.empty_like(mean).uniform_(-inputs["alpha"], inputs["alpha"])
        return mean, self.log_std_parameter, {}


parser = argparse.ArgumentParser(description="RPO on Pendulum-v1 with PyTorch")
parser.add_argument("--timesteps", type=int, default=50_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec("Pendulum-v1", num_envs=4, vectorization_mode="sync")
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
models = {
    "policy": Policy(env.observation_space, env.action_space, env.device),
    "value": deterministic_model(env.observation_space, env.action_space, env.device, network=network,
                                 output="ONE"),
}

cfg = {
    "rollouts": 1024,
    "learning_epochs": 10,
    "mini_batches": 32,
    "discount_factor": 0.9,
    "learning_rate": 1e-3,
    "learning_rate_scheduler": KLAdaptiveLR,
    "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
    "state_preprocessor": RunningStandardScaler,
    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
    "value_preprocessor": RunningStandardScaler,
    "value_preprocessor_kwargs": {"size": 1, "device": env.device},
    "value_loss_scale": 0.5,
    "alpha": 0.1,  # half-width of the uniform perturbation of the mean torque
    "experiment": {"directory": "runs/rpo_pendulum_torch"},
}
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)
agent = RPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
