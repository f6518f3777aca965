"""TRPO on CartPole-v1 with PyTorch

Four vectorised CartPole environments, a categorical policy and a value function (64x64 tanh MLPs from the model
instantiators) and observations standardised by a running scaler. TRPO takes a natural-gradient step of the policy
within a KL-divergence trust region every rollout of 64 steps x 4 environments. The default budget (25,000 steps x
4 environments = 100,000 transitions) reaches the maximum return of 500.
"""

import argparse

import gymnasium

from skrl.agents.torch.trpo import TRPO
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.torch import categorical_model, deterministic_model

parser = argparse.ArgumentParser(description="TRPO on CartPole-v1 with PyTorch")
parser.add_argument("--timesteps", type=int, default=25_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync")
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
spaces = (env.observation_space, env.action_space, env.device)
models = {
    "policy": categorical_model(*spaces, network=network, output="ACTIONS"),
    "value": deterministic_model(*spaces, network=network, output="ONE"),
}

cfg = {
    "rollouts": 64,
    "learning_epochs": 10,  # of the value function; the policy takes one trust-region step per rollout
    "mini_batches": 4,
    "value_learning_rate": 3e-3,
    "state_preprocessor": RunningStandardScaler,
    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
    "experiment": {"directory": "runs/trpo_cartpole_torch"},
}
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)
agent = TRPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
             action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
