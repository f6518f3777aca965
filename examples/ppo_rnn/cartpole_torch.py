"""Recurrent PPO on a partially observable CartPole-v1 with PyTorch

CartPole-v1 without the velocities (the observation is only the cart position and the pole angle), so the agent
needs a memory: a recurrent policy and a recurrent value function (each its own single-layer GRU of 64 units and a
64-unit tanh head, sharing nothing) trained on sequences of 16 steps by ``PPO_RNN``, with eight vectorised
environments, observations standardised by a running scaler and a KL-adaptive learning rate. The default budget is
25,000 steps x 8 environments = 200,000 transitions, as for the JAX example (which reaches the maximum return of 500
with it). A partial run of it (seed 42, stopped at 16,750 steps) had not settled yet: its mean return peaked at 497 at
10,000 steps, then ranged from 130 to 480.
"""

import argparse

import gymnasium
import numpy as np
import torch
import torch.nn as nn

from skrl.agents.torch.ppo import PPO_RNN
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed

parser = argparse.ArgumentParser(description="Recurrent PPO on a partially observable CartPole-v1 with PyTorch")
parser.add_argument("--timesteps", type=int, default=25_000, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

NUM_ENVS, SEQUENCE_LENGTH, HIDDEN = 8, 16, 64
POSITIONS = [0, 2]  # cart position and pole angle: the velocities (indices 1 and 3) are dropped


def without_velocities(env):
    space = env.observation_space
    positions = gymnasium.spaces.Box(space.low[POSITIONS], space.high[POSITIONS], dtype=np.float32)
    return gymnasium.wrappers.TransformObservation(env, lambda obs: obs[POSITIONS], positions)


class Recurrent:
    """A GRU over the observations and an MLP head; the agent passes the GRU's hidden state in ``inputs["rnn"]``."""

    def _setup(self, outputs):
        self.gru = nn.GRU(self.num_observations, HIDDEN, num_layers=1, batch_first=True)
        self.head = nn.Sequential(nn.Linear(HIDDEN, 64), nn.Tanh(), nn.Linear(64, outputs))

    def get_specification(self):
        return {"rnn": {"sequence_length": SEQUENCE_LENGTH, "sizes": [(1, NUM_ENVS, HIDDEN)]}}

    def _recurrent(self, inputs):
        states, rnn, terminated = inputs["states"], inputs.get("rnn"), inputs.get("terminated")
        hidden = rnn[0] if rnn else None  # no states when the agent initialises the model
        if terminated is None:  # rollout: one step of each environment
            output, hidden = self.gru(states.unsqueeze(1), hidden)
            return self.head(output[:, 0]), {"rnn": [hidden]}
        # update: sequences of SEQUENCE_LENGTH steps of one environment, started from the first step's stored state;
        # the hidden state is reset after a step whose episode ended
        sequences = states.view(-1, SEQUENCE_LENGTH, states.shape[-1])
        hidden = hidden.view(hidden.shape[0], -1, SEQUENCE_LENGTH, HIDDEN)[:, :, 0].contiguous()
        keep = terminated.view(-1, SEQUENCE_LENGTH).logical_not().float()
        outputs = []
        for t in range(SEQUENCE_LENGTH):
            output, hidden = self.gru(sequences[:, t:t + 1], hidden)
            outputs.append(output)
            hidden = hidden * keep[:, t].view(1, -1, 1)
        return self.head(torch.cat(outputs, dim=1).reshape(-1, HIDDEN)), {"rnn": [hidden]}


class Policy(CategoricalMixin, Recurrent, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True)
        self._setup(self.num_actions)

    def compute(self, inputs, role):
        return self._recurrent(inputs)


class Value(DeterministicMixin, Recurrent, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=False)
        self._setup(1)

    def compute(self, inputs, role):
        return self._recurrent(inputs)


set_seed(args.seed)
env = gymnasium.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync", wrappers=[without_velocities])
env.reset(seed=args.seed)
env = wrap_env(env, wrapper="gymnasium")

spaces = (env.observation_space, env.action_space, env.device)
models = {"policy": Policy(*spaces), "value": Value(*spaces)}

cfg = {
    "rollouts": 128,
    "learning_epochs": 5,
    "mini_batches": 4,  # 1,024 rows = 64 sequences of 16 steps: 16 sequences per mini-batch
    "learning_rate": 1e-3,
    "learning_rate_scheduler": KLAdaptiveLR,
    "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
    "state_preprocessor": RunningStandardScaler,
    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
    "value_loss_scale": 0.5,
    "experiment": {"directory": "runs/ppo_rnn_cartpole_torch"},
}
memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)
agent = PPO_RNN(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space, device=env.device)

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
