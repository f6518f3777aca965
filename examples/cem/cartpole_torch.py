"""CEM on CartPole-v1 with PyTorch

Four vectorised CartPole environments and a categorical policy (a 64x64 tanh MLP from the model instantiators). The
cross-entropy method fits the policy, every rollout of 1,000 steps x 4 environments, to the actions of the episodes
that ended in it with a return above the 70th percentile. The default budget (25,000 steps x 4 environments =
100,000 transitions) reaches a return of about 490 to 500 (the maximum).
"""

import argparse

import gymnasium

from skrl.agents.torch.cem import CEM
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.torch import categorical_model

parser = argparse.ArgumentParser(description="CEM on CartPole-v1 with PyTorch")
parser.add_argument("--timesteps", type=int, default=25_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync")
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
models = {
    "policy": categorical_model(env.observation_space, env.action_space, env.device, network=network,
                                output="ACTIONS"),
}

cfg = {
    "rollouts": 1_000,  # long enough to hold whole episodes (up to 500 steps)
    "percentile": 0.7,
    "learning_rate": 1e-2,
    "experiment": {"directory": "runs/cem_cartpole_torch"},
}
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)
agent = CEM(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
