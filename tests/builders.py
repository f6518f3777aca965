"""Builders shared by tests: environments and PPO agents assembled the way skrl 1.4.3 users write them."""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np


class RandomEnv(gymnasium.Env):
    """Box(-1, 1, (5,)) observations, random rewards, about 5% terminations and 5% truncations."""

    def __init__(self, action_space=None, seed=0):
        self.observation_space = gymnasium.spaces.Box(-1, 1, (5,), dtype=np.float32)
        self.action_space = action_space or gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32)
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        return self._rng.uniform(-1, 1, 5).astype(np.float32), {}

    def step(self, action):
        obs = self._rng.uniform(-1, 1, 5).astype(np.float32)
        u = self._rng.uniform()
        return obs, float(self._rng.normal()), bool(u < 0.05), bool(0.05 <= u < 0.1), {}


def module(area: str, backend: str):
    return importlib.import_module(f"skrl.{area}.{backend}")


def wrapped_random_env(backend: str, num_envs: int = 2, action_space=None):
    if num_envs == 1:
        env = RandomEnv(action_space)
    else:
        env = gymnasium.vector.SyncVectorEnv([lambda i=i: RandomEnv(action_space, seed=i) for i in range(num_envs)])
    return module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)


def wrapped_gym_env(backend: str, env_id: str = "CartPole-v1", num_envs: int = 2, seed: int = 0):
    env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync") if num_envs > 1 else gymnasium.make(env_id)
    env.reset(seed=seed)
    return module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)


NETWORK = [{"name": "net", "input": "STATES", "layers": [16, 16], "activations": "tanh"}]


def ppo_models(backend: str, observation_space, action_space, device=None, network=NETWORK):
    instantiators = module("utils.model_instantiators", backend)
    if isinstance(action_space, gymnasium.spaces.Discrete):
        policy = instantiators.categorical_model(observation_space, action_space, device, network=network, output="ACTIONS")
    else:
        policy = instantiators.gaussian_model(observation_space, action_space, device, network=network, output="ACTIONS")
    value = instantiators.deterministic_model(observation_space, action_space, device, network=network, output="ONE")
    policy.init_state_dict("policy")
    value.init_state_dict("value")
    return {"policy": policy, "value": value}


def make_ppo(backend: str, env, cfg=None, memory_size=None, models=None):
    models = models or ppo_models(backend, env.observation_space, env.action_space, env.device)
    cfg = dict(cfg or {})
    memory = module("memories", backend).RandomMemory(memory_size=memory_size or cfg.get("rollouts", 16),
                                                      num_envs=env.num_envs, device=env.device)
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    return ppo(models=models, memory=memory, observation_space=env.observation_space, action_space=env.action_space,
               device=env.device, cfg=cfg)


def trainer(backend: str, env, agent, timesteps: int, **cfg):
    trainers = module("trainers", backend)
    return trainers.SequentialTrainer(env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True,
                                                                   "disable_progressbar": True,
                                                                   "close_environment_at_exit": False, **cfg})


def read_events(directory: str) -> dict:
    """``{tag: [(step, value), ...]}`` from the TensorBoard event files in ``directory``, read by tensorboard itself."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def to_numpy(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
