"""Builders for the off-policy agent tests: models per agent, agents, and the expected tags and checkpoint keys.

The expected tags and module names are written from reference sections 2.5 and 3.1 independently of the code.
"""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np
from builders import module

AGENTS = ("DDPG", "TD3", "SAC", "DQN", "DDQN")
PACKAGES = {"DDPG": "ddpg", "TD3": "td3", "SAC": "sac", "DQN": "dqn", "DDQN": "dqn"}
ROLES = {
    "DDPG": {"policy": "actor", "target_policy": "actor", "critic": "critic", "target_critic": "critic"},
    "TD3": {"policy": "actor", "target_policy": "actor", "critic_1": "critic", "critic_2": "critic",
            "target_critic_1": "critic", "target_critic_2": "critic"},
    "SAC": {"policy": "gaussian", "critic_1": "critic", "critic_2": "critic", "target_critic_1": "critic",
            "target_critic_2": "critic"},
    "DQN": {"q_network": "q", "target_q_network": "q"},
    "DDQN": {"q_network": "q", "target_q_network": "q"},
}
NET = [{"name": "net", "input": "STATES", "layers": [16, 16], "activations": "tanh"}]
CRITIC_NET = [{"name": "net", "input": "concatenate([STATES, ACTIONS])", "layers": [16, 16], "activations": "tanh"}]

BASE_TAGS = {f"Reward / Instantaneous reward ({s})" for s in ("max", "min", "mean")}
EPISODE_TAGS = {f"{group} ({s})" for group in ("Reward / Total reward", "Episode / Total timesteps")
                for s in ("max", "min", "mean")}


def stats(group: str) -> set:
    return {f"{group} ({s})" for s in ("max", "min", "mean")}


def is_discrete(agent: str) -> bool:
    return agent in ("DQN", "DDQN")


def action_space(agent: str):
    return gymnasium.spaces.Discrete(3) if is_discrete(agent) else gymnasium.spaces.Box(-1, 1, (3,), np.float32)


def make_models(backend: str, agent: str, observation_space, action_space, device=None, layers=(16, 16),
                activations="tanh", action_scale=1):
    """The agent's models (16x16 tanh MLPs by default); actors output ``action_scale * tanh(.)``."""
    instantiators = module("utils.model_instantiators", backend)
    net = [{**NET[0], "layers": list(layers), "activations": activations}]
    critic_net = [{**CRITIC_NET[0], "layers": list(layers), "activations": activations}]
    spaces = (observation_space, action_space, device)
    actions = f"{action_scale} * tanh(ACTIONS)"
    kinds = {
        "actor": lambda: instantiators.deterministic_model(*spaces, network=net, output=actions),
        "gaussian": lambda: instantiators.gaussian_model(*spaces, clip_actions=True, network=net, output=actions),
        "critic": lambda: instantiators.deterministic_model(*spaces, network=critic_net, output="ONE"),
        "q": lambda: instantiators.deterministic_model(*spaces, network=net, output="ACTIONS"),
    }
    models = {}
    for role, kind in ROLES[agent].items():
        models[role] = kinds[kind]()
        models[role].init_state_dict(role)
    return models


def agent_class(backend: str, agent: str):
    return getattr(importlib.import_module(f"skrl.agents.{backend}.{PACKAGES[agent]}"), agent)


def default_config(backend: str, agent: str) -> dict:
    return getattr(importlib.import_module(f"skrl.agents.{backend}.{PACKAGES[agent]}"), f"{agent}_DEFAULT_CONFIG")


def make_agent(backend: str, agent: str, env, cfg=None, memory_size=50, models=None):
    models = models or make_models(backend, agent, env.observation_space, env.action_space, env.device)
    memory = module("memories", backend).RandomMemory(memory_size=memory_size, num_envs=env.num_envs,
                                                      device=env.device)
    return agent_class(backend, agent)(models=models, memory=memory, observation_space=env.observation_space,
                                       action_space=env.action_space, device=env.device, cfg=dict(cfg or {}))


def expected_tags(agent: str, cfg: dict, episodes: bool = True) -> set:
    """Reference 2.5: the tags an agent writes for ``cfg`` when updates ran and (for noise/epsilon) acting ran
    past ``random_timesteps``."""
    tags = set(BASE_TAGS) | (EPISODE_TAGS if episodes else set())
    scheduled = bool(cfg.get("learning_rate_scheduler"))
    if is_discrete(agent):
        tags |= {"Loss / Q-network loss"} | stats("Target / Target")
        if cfg.get("exploration", {}).get("timesteps", 1000):
            tags.add("Exploration / Exploration epsilon")
        return tags | ({"Learning / Learning rate"} if scheduled else set())
    tags |= {"Loss / Policy loss", "Loss / Critic loss"} | stats("Q-network / Q1") | stats("Target / Target")
    if agent in ("TD3", "SAC"):
        tags |= stats("Q-network / Q2")
    if agent in ("DDPG", "TD3") and cfg.get("exploration", {}).get("noise") is not None:
        tags |= stats("Exploration / Exploration noise")
    if agent == "SAC" and cfg.get("learn_entropy", True):
        tags |= {"Loss / Entropy loss", "Coefficient / Entropy coefficient"}
    if scheduled:
        tags |= {"Learning / Policy learning rate", "Learning / Critic learning rate"}
    return tags


def expected_modules(backend: str, agent: str, cfg: dict) -> list:
    """Reference 3.1: checkpoint module names in registration order."""
    models = list(ROLES[agent])
    if is_discrete(agent):
        optimizers = ["optimizer"]
    elif backend == "torch":
        optimizers = ["policy_optimizer", "critic_optimizer"]
    elif agent == "DDPG":
        optimizers = ["policy_optimizer", "critic_optimizer"]
    else:
        optimizers = ["policy_optimizer", "critic_1_optimizer", "critic_2_optimizer"]
    if agent == "SAC" and cfg.get("learn_entropy", True):
        optimizers = ["entropy_optimizer", *optimizers]
    return models + optimizers + (["state_preprocessor"] if cfg.get("state_preprocessor") else [])


def scheduler(backend: str, choice, value: float):
    """``(learning_rate_scheduler, kwargs)`` for None, "kl" or "constant"."""
    if choice == "kl":
        return module("resources.schedulers", backend).KLAdaptiveLR, {"kl_threshold": value}
    if choice == "constant":
        if backend == "torch":
            import torch

            return torch.optim.lr_scheduler.ConstantLR, {"factor": value}
        import optax

        return optax.schedules.constant_schedule, {"value": value}
    return None, {}


def noise(backend: str, choice, device=None):
    noises = module("resources.noises", backend)
    if choice == "gaussian":
        return noises.GaussianNoise(mean=0, std=0.1, device=device)
    if choice == "ou":
        return noises.OrnsteinUhlenbeckNoise(theta=0.1, sigma=0.2, base_scale=1.0, device=device)
    return None


def observations(backend: str, env, n=6, seed=3):
    rng = np.random.default_rng(seed)
    obs = rng.uniform(-1, 1, (n, env.observation_space.shape[0])).astype(np.float32)
    if backend == "torch":
        import torch

        return torch.as_tensor(obs, device=env.device)
    return obs
