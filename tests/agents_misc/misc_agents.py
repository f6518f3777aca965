"""Builders for the TRPO, CEM, Q-learning and SARSA tests (and benchmarks), both backends, as skrl users write them."""

import importlib

import gymnasium
import numpy as np
from builders import NETWORK, module
from tabular_models import epsilon_greedy_policy

AGENTS = ("trpo", "cem", "q_learning", "sarsa")
CLASS_NAMES = {"trpo": "TRPO", "cem": "CEM", "q_learning": "Q_LEARNING", "sarsa": "SARSA"}

BASE_TAGS = {f"Reward / Instantaneous reward ({s})" for s in ("max", "min", "mean")}
EPISODE_TAGS = {f"{t} ({s})" for t in ("Reward / Total reward", "Episode / Total timesteps") for s in ("max", "min", "mean")}
#: reference section 2.5: the tags each agent writes after an update, and its learning-rate tag (with a scheduler)
UPDATE_TAGS = {
    "trpo": {"Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation"},
    "cem": {"Loss / Policy loss", "Coefficient / Return threshold", "Coefficient / Mean discounted returns"},
    "q_learning": set(),
    "sarsa": set(),
}
LEARNING_RATE_TAGS = {"trpo": "Learning / Value learning rate", "cem": "Learning / Learning rate"}
#: reference section 3.1 (TRPO's JAX keys follow torch: one value optimizer)
CHECKPOINT_MODULES = {
    "trpo": ["policy", "value", "value_optimizer", "state_preprocessor", "value_preprocessor"],
    "cem": ["policy", "optimizer", "state_preprocessor"],
    "q_learning": ["policy"],
    "sarsa": ["policy"],
}


def agent_class(backend, name):
    return getattr(importlib.import_module(f"skrl.agents.{backend}.{name}"), CLASS_NAMES[name])


def stochastic_policy(backend, observation_space, action_space, device=None, network=NETWORK, multivariate=False):
    instantiators = module("utils.model_instantiators", backend)
    if isinstance(action_space, gymnasium.spaces.Discrete):
        policy = instantiators.categorical_model(observation_space, action_space, device, network=network, output="ACTIONS")
    elif multivariate:
        policy = instantiators.multivariate_gaussian_model(observation_space, action_space, device, network=network,
                                                           output="ACTIONS")
    else:
        policy = instantiators.gaussian_model(observation_space, action_space, device, network=network, output="ACTIONS")
    policy.init_state_dict("policy")
    return policy


def value_model(backend, observation_space, action_space, device=None, network=NETWORK):
    value = module("utils.model_instantiators", backend).deterministic_model(observation_space, action_space, device,
                                                                             network=network, output="ONE")
    value.init_state_dict("value")
    return value


def make_agent(backend, name, env, cfg=None, memory_size=None, models=None, epsilon=0.1, shared_table=False,
               multivariate=False, network=NETWORK):
    """The agent ``name`` for ``env`` with small default models (a memory of ``rollouts`` steps when it needs one)."""
    cfg = dict(cfg or {})
    space_args = (env.observation_space, env.action_space, env.device)
    if models is None and name in ("q_learning", "sarsa"):
        rows = 1 if shared_table else env.num_envs
        models = {"policy": epsilon_greedy_policy(backend, *space_args, num_envs=rows, epsilon=epsilon)}
    elif models is None:
        models = {"policy": stochastic_policy(backend, *space_args, network=network, multivariate=multivariate)}
        if name == "trpo":
            models["value"] = value_model(backend, *space_args, network=network)
    memory = None
    if name in ("trpo", "cem"):
        memory = module("memories", backend).RandomMemory(memory_size=memory_size or cfg.get("rollouts", 16),
                                                          num_envs=env.num_envs, device=env.device)
    return agent_class(backend, name)(models=models, memory=memory, observation_space=env.observation_space,
                                      action_space=env.action_space, device=env.device, cfg=cfg)


def toy_text_env(backend, env_id="FrozenLake-v1", num_envs=1, seed=0, **kwargs):
    if num_envs > 1:
        env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)
    else:
        env = gymnasium.make(env_id, **kwargs)
    env.reset(seed=seed)
    return module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)


def observations(backend, env, n=6, seed=3):
    """A batch of observations of ``env``'s observation space, as the backend's wrapper gives them."""
    rng = np.random.default_rng(seed)
    space = env.observation_space
    if isinstance(space, gymnasium.spaces.Discrete):
        x = rng.integers(0, space.n, (n, 1)).astype(np.int64)
    else:
        x = rng.uniform(-1, 1, (n, int(np.prod(space.shape)))).astype(np.float32)
    if backend == "torch":
        import torch

        return torch.as_tensor(x, device=env.device)
    return x
