"""DDPG on Pendulum-v1 with JAX

One Pendulum environment, a deterministic actor (torques in [-2, 2]) and a Q-critic, each with its target (64x64
ReLU MLPs from the model instantiators), Ornstein-Uhlenbeck exploration noise scaled from 1 down to 0.5 over the
run and one gradient step of 256 transitions per env step after 100 random steps. The default budget (20,000 steps)
reaches an evaluation return of about -125 to -135 (a random policy scores about -1,200).
"""

import argparse

import gymnasium

from skrl.agents.jax.ddpg import DDPG
from skrl.envs.wrappers.jax import wrap_env
from skrl.memories.jax import RandomMemory
from skrl.resources.noises.jax import OrnsteinUhlenbeckNoise
from skrl.trainers.jax import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.jax import deterministic_model

parser = argparse.ArgumentParser(description="DDPG on Pendulum-v1 with JAX")
parser.add_argument("--timesteps", type=int, default=20_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make("Pendulum-v1")
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

actor = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "relu"}]
critic = [{"name": "net", "input": "STATES_ACTIONS", "layers": [64, 64], "activations": "relu"}]
spaces = (env.observation_space, env.action_space, env.device)
models = {
    **{role: deterministic_model(*spaces, network=actor, output="2 * tanh(ACTIONS)")
       for role in ("policy", "target_policy")},
    **{role: deterministic_model(*spaces, network=critic, output="ONE") for role in ("critic", "target_critic")},
}
for role, model in models.items():
    model.init_state_dict(role)  # JAX models create their parameters here

cfg = {
    "batch_size": 256,
    "random_timesteps": 100,
    "learning_starts": 100,
    "exploration": {"noise": OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=1.0, device=env.device),
                    "initial_scale": 1.0, "final_scale": 0.5, "timesteps": None},
    "experiment": {"directory": "runs/ddpg_pendulum_jax"},
}
memory = RandomMemory(memory_size=20_000, num_envs=env.num_envs, device=env.device)
agent = DDPG(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
             action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
