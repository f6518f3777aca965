"""DDQN on CartPole-v1 with JAX

Four vectorised CartPole environments, a Q-network and its target (128x128 ReLU MLPs from the model instantiators,
one output per action), epsilon-greedy exploration decaying from 1 to 0.01 over the first 2,500 steps, two gradient
steps per env step and a soft (Polyak) target update. Double DQN picks the next action with the Q-network and
values it with the target network, which curbs DQN's overestimation. The default budget (25,000 steps x 4
environments = 100,000 transitions) reaches the maximum return of 500.
"""

import argparse

import gymnasium

from skrl.agents.jax.dqn import DDQN
from skrl.envs.wrappers.jax import wrap_env
from skrl.memories.jax import RandomMemory
from skrl.trainers.jax import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.jax import deterministic_model

parser = argparse.ArgumentParser(description="DDQN on CartPole-v1 with JAX")
parser.add_argument("--timesteps", type=int, default=25_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync")
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

network = [{"name": "net", "input": "STATES", "layers": [128, 128], "activations": "relu"}]
spaces = (env.observation_space, env.action_space, env.device)
models = {
    "q_network": deterministic_model(*spaces, network=network, output="ACTIONS"),
    "target_q_network": deterministic_model(*spaces, network=network, output="ACTIONS"),
}
for role, model in models.items():
    model.init_state_dict(role)  # JAX models create their parameters here

cfg = {
    "batch_size": 128,
    "learning_starts": 100,
    "learning_rate": 5e-4,
    "gradient_steps": 2,
    "target_update_interval": 1,
    "polyak": 0.01,
    "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.01, "timesteps": 2_500},
    "experiment": {"directory": "runs/ddqn_cartpole_jax"},
}
memory = RandomMemory(memory_size=50_000, num_envs=env.num_envs, device=env.device)
agent = DDQN(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
            action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
