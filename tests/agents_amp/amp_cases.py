"""Builders for the AMP tests, both backends, as skrl users write them: an env whose infos carry the AMP
observations, the three models, the motion dataset and reply buffer, and reference motions."""

import importlib

import gymnasium
import numpy as np
from builders import NETWORK, module

AMP_SIZE = 10
UPDATE_TAGS = {"Loss / Policy loss", "Loss / Value loss", "Loss / Discriminator loss", "Policy / Standard deviation"}
CHECKPOINT_MODULES = {
    "torch": ["policy", "value", "discriminator", "optimizer", "state_preprocessor", "value_preprocessor",
              "amp_state_preprocessor"],
    "jax": ["policy", "value", "discriminator", "policy_optimizer", "value_optimizer", "discriminator_optimizer",
            "state_preprocessor", "value_preprocessor", "amp_state_preprocessor"],
}


def as_backend(backend, x, device=None):
    if backend == "torch":
        import torch

        return torch.as_tensor(np.asarray(x), device=device)
    import jax.numpy as jnp

    return jnp.asarray(x)


class AMPTaskEnv(gymnasium.Env):
    """Box(-1, 1, (5,)) observations and Box(-1, 1, (3,)) actions; ``info["amp_obs"]`` is the clipped action (padded
    with the first observations to ``AMP_SIZE``), so a policy imitates reference motions by its actions alone.
    Rewards are random; about 5% of steps terminate and 5% truncate; ``info["terminate"]`` repeats terminated."""

    def __init__(self, seed=0):
        self.observation_space = gymnasium.spaces.Box(-1, 1, (5,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32)
        self._rng = np.random.default_rng(seed)
        self._obs = np.zeros(5, np.float32)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._obs = self._rng.uniform(-1, 1, 5).astype(np.float32)
        return self._obs, {}

    def step(self, action):
        amp = np.concatenate([np.clip(action, -1, 1), self._obs, np.zeros(AMP_SIZE - 8)]).astype(np.float32)
        self._obs = self._rng.uniform(-1, 1, 5).astype(np.float32)
        u = self._rng.uniform()
        terminated = bool(u < 0.05)
        return self._obs, float(self._rng.normal()), terminated, bool(0.05 <= u < 0.1), \
            {"amp_obs": amp, "terminate": terminated}


class AMPInfos:
    """The wrapped env, with ``infos["amp_obs"]`` ``(N, AMP_SIZE)`` and ``infos["terminate"]`` ``(N, 1)`` as the
    backend's arrays on the env's device (as Isaac-style AMP environments give them)."""

    def __init__(self, env, backend):
        self._env, self._backend = env, backend
        self.action_means = []  # per step: the mean over envs and dimensions of the clipped actions taken


    def __getattr__(self, name):
        return getattr(self._env, name)

    def step(self, actions):
        states, rewards, terminated, truncated, infos = self._env.step(actions)
        amp = np.asarray(infos["amp_obs"], np.float32).reshape(-1, AMP_SIZE)
        terminate = np.asarray(infos["terminate"], bool).reshape(-1, 1)
        self.action_means.append(float(amp[:, :3].mean()))
        infos = {**infos, "amp_obs": as_backend(self._backend, amp, self.device),
                 "terminate": as_backend(self._backend, terminate, self.device)}
        return states, rewards, terminated, truncated, infos


def amp_env(backend, num_envs=2):
    if num_envs == 1:
        env = AMPTaskEnv()
    else:
        env = gymnasium.vector.SyncVectorEnv([lambda i=i: AMPTaskEnv(seed=i) for i in range(num_envs)])
    return AMPInfos(module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False), backend)


def amp_space():
    return gymnasium.spaces.Box(-1, 1, (AMP_SIZE,), dtype=np.float32)


def reference_motions(backend, device=None, target=0.5, seed=0):
    """``collect_reference_motions(n)``: AMP observations whose action part is ``target`` (+- 0.05 noise)."""
    rng = np.random.default_rng(seed)

    def collect(n):
        motions = rng.uniform(-1, 1, (n, AMP_SIZE)).astype(np.float32)
        motions[:, :3] = target + 0.05 * rng.standard_normal((n, 3))
        motions[:, 8:] = 0
        return as_backend(backend, motions, device)

    return collect


def amp_models(backend, env, network=NETWORK):
    instantiators = module("utils.model_instantiators", backend)
    space_args = (env.observation_space, env.action_space, env.device)
    policy = instantiators.gaussian_model(*space_args, network=network, output="ACTIONS")
    value = instantiators.deterministic_model(*space_args, network=network, output="ONE")
    discriminator = instantiators.deterministic_model(amp_space(), env.action_space, env.device, network=network,
                                                      output="ONE")
    for role, model in (("policy", policy), ("value", value), ("discriminator", discriminator)):
        model.init_state_dict(role)
    return {"policy": policy, "value": value, "discriminator": discriminator}


def make_amp(backend, env, cfg, motion_size=50, reply_size=100, models=None, reply_buffer=True, target=0.5):
    memories = module("memories", backend)
    memory = memories.RandomMemory(memory_size=cfg.get("rollouts", 16), num_envs=env.num_envs, device=env.device)
    amp_cls = importlib.import_module(f"skrl.agents.{backend}.amp").AMP
    return amp_cls(models=models or amp_models(backend, env), memory=memory, cfg=cfg,
                   observation_space=env.observation_space, action_space=env.action_space, device=env.device,
                   amp_observation_space=amp_space(),
                   motion_dataset=memories.RandomMemory(memory_size=motion_size, device=env.device),
                   reply_buffer=memories.RandomMemory(memory_size=reply_size, device=env.device) if reply_buffer else None,
                   collect_reference_motions=reference_motions(backend, env.device, target))
