"""A tiny cooperative PettingZoo task and IPPO/MAPPO agents built on it, as skrl 1.4.3 users write them."""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np
from builders import module, ppo_models
from pettingzoo.utils.env import ParallelEnv

EPISODE_LENGTH = 8


class SignalEnv(ParallelEnv):
    """Each agent sees a signal in {0, 1, 2} (one-hot) and should answer it: every agent gets the team's number of
    right answers, so the agents cooperate. The global state is both signals; episodes last 8 steps (truncated).

    ``boxes`` lists the agents answering with a Box(-1, 1, (1,)) action (read as the third of [-1, 1] it falls in)
    instead of a Discrete(3) one.
    """

    metadata = {"name": "signal_v0"}

    def __init__(self, num_agents=2, seed=0, boxes=()):
        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.observation_spaces = {uid: gymnasium.spaces.Box(0, 1, (3,), np.float32) for uid in self.possible_agents}
        self.action_spaces = {uid: gymnasium.spaces.Box(-1, 1, (1,), np.float32) if uid in boxes
                              else gymnasium.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gymnasium.spaces.Box(0, 1, (3 * num_agents,), np.float32)
        self._rng = np.random.default_rng(seed)
        self.agents, self._signals, self._t = [], {}, 0

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
        team = float(sum(self._answer(uid, actions[uid]) == self._signals[uid] for uid in self.agents))
        self._t += 1
        done = self._t >= EPISODE_LENGTH
        observations = self._observations()
        rewards = {uid: team for uid in self.agents}
        terminated = {uid: False for uid in self.agents}
        truncated = {uid: done for uid in self.agents}
        infos = {uid: {} for uid in self.agents}
        if done:
            self.agents = []
        return observations, rewards, terminated, truncated, infos

    def _answer(self, uid, action):
        if isinstance(self.action_spaces[uid], gymnasium.spaces.Discrete):
            return int(action)
        action = np.nan_to_num(np.asarray(action, dtype=np.float64).reshape(-1)[0])  # diverged policies act NaN
        return int(np.clip((action + 1) * 1.5, 0, 2))

    def state(self):
        return np.concatenate([np.eye(3, dtype=np.float32)[self._signals[uid]] for uid in self.possible_agents])


class ClockSignalEnv(SignalEnv):
    """``SignalEnv`` whose signals depend only on a global step counter starting at ``offset`` (a multiple of the
    episode length), so that a run resumed at step ``offset`` sees the data of an uninterrupted run."""

    def __init__(self, offset=0):
        super().__init__()
        self._clock = offset

    def _observations(self):
        self._rng = np.random.default_rng(self._clock)
        return super()._observations()

    def step(self, actions):
        self._clock += 1
        return super().step(actions)


def wrapped_signal_env(backend, num_agents=2, seed=0, env=None, boxes=()):
    env = env or SignalEnv(num_agents, seed, boxes)
    return module("envs.wrappers", backend).wrap_env(env, wrapper="pettingzoo", verbose=False)


NETWORK = [{"name": "net", "input": "STATES", "layers": [32], "activations": "tanh"}]


def make_multi_agent(backend, algorithm, env, cfg=None, network=NETWORK):
    """IPPO or MAPPO on ``env`` with one memory of ``rollouts`` rows per agent."""
    cfg = dict(cfg or {})
    shared = algorithm == "MAPPO"
    models, memories = {}, {}
    for uid in env.possible_agents:
        models[uid] = ppo_models(backend, env.observation_space(uid), env.action_space(uid), env.device, network)
        if shared:  # the value model sees the global state
            models[uid]["value"] = ppo_models(backend, env.state_space(uid), env.action_space(uid), env.device,
                                              network)["value"]
        memories[uid] = module("memories", backend).RandomMemory(memory_size=cfg.get("rollouts", 16),
                                                                 num_envs=env.num_envs, device=env.device)
    package = importlib.import_module(f"skrl.multi_agents.{backend}.{algorithm.lower()}")
    kwargs = {"shared_observation_spaces": env.state_spaces} if shared else {}
    return getattr(package, algorithm)(possible_agents=env.possible_agents, models=models, memories=memories,
                                       observation_spaces=env.observation_spaces, action_spaces=env.action_spaces,
                                       device=env.device, cfg=cfg, **kwargs)
