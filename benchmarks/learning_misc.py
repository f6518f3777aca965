"""Learning benchmark for the on-policy and tabular agents (PPO, A2C, RPO, TRPO, CEM, Q-learning, SARSA), both
backends, beside skrl 1.4.3 (same table as ``benchmarks/learning.py``).

    python benchmarks/learning_misc.py [--agents PPO A2C ...] [--backends torch jax] [--seed 42] [--seeds 1]
                                       [--scale 1.0]
                                       [--skrl143 /path/to/venv-skrl143/bin/python] [--torch-threads 1]

Each entry trains an agent built from the public API that skrl 1.4.3 shares, as a user would, so that the same
code runs there (``--skrl143``: this file with ``--job`` in the Python of an environment that has it). The return
is the mean over 10 fresh episodes of the deterministic policy after training, through ``agent.act`` (the most
likely or mean action; tabular agents: the greedy action of the Q-table, at most 200 steps an episode); the rate
counts training transitions over the wall time of ``trainer.train()`` (JIT compilation and the data layer
included); with ``--seeds N`` every implementation runs the seeds ``seed .. seed+N-1`` (interleaved) and the row
gives the mean return, the median rate and the success rate (return >= goal). Q-learning and SARSA reach the goal
in 2,000 steps on most seeds but not all (each env learns its own table; env 0's is read): their single-seed return
is a coin flip, compare their success rates over several seeds (e.g. ``--seeds 20``). RPO runs twice: on CartPole
its perturbation of a Gaussian mean does not apply (a categorical policy: it is PPO), on Pendulum a policy written
for it perturbs its mean torque by ``alpha``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import learning  # noqa: E402
from learning import evaluate_through_act  # noqa: E402

NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
EPSILON = 0.1  # exploration of the tabular epsilon-greedy policy
KL_ADAPTIVE = {"learning_rate_scheduler": "KLAdaptiveLR", "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008}}
#: PPO on CartPole as in examples/ppo (RPO on CartPole: the same)
PPO_CARTPOLE = {"rollouts": 128, "learning_epochs": 10, "mini_batches": 4, "learning_rate": 1e-3, **KL_ADAPTIVE,
                "state_preprocessor": "RunningStandardScaler", "value_loss_scale": 0.5}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row: an agent (package, class) on a gymnasium task with keyword arguments, envs, run length, goal and
    plain settings (scheduler and preprocessors by class name)."""

    agent: str
    package: str
    task: str
    task_kwargs: dict
    num_envs: int
    timesteps: int
    goal: float
    settings: dict


ENTRIES = [
    Entry("PPO", "ppo", "CartPole-v1", {}, 8, 12_500, 475, PPO_CARTPOLE),
    # A2C: many small updates (16 steps x 8 envs) at a learning rate decaying linearly to 0 over the run, as SB3-zoo
    # trains A2C; with a KL-adaptive rate (32 x 8, 12,500 steps) it reached the goal on 1 of 3 seeds per backend
    Entry("A2C", "a2c", "CartPole-v1", {}, 8, 25_000, 475,
          {"rollouts": 16, "mini_batches": 1, "learning_rate": 3e-3, "entropy_loss_scale": 0.01,
           "time_limit_bootstrap": True, "state_preprocessor": "RunningStandardScaler",
           "learning_rate_scheduler": "LinearLR",
           "learning_rate_scheduler_kwargs": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 25_000 // 16}}),
    Entry("RPO", "rpo", "CartPole-v1", {}, 8, 12_500, 475, PPO_CARTPOLE),
    Entry("RPO", "rpo", "Pendulum-v1", {}, 4, 50_000, -300,
          {"rollouts": 1024, "learning_epochs": 10, "mini_batches": 32, "discount_factor": 0.9,
           "learning_rate": 1e-3, **KL_ADAPTIVE, "state_preprocessor": "RunningStandardScaler",
           "value_preprocessor": "RunningStandardScaler", "value_loss_scale": 0.5, "alpha": 0.1}),
    # TRPO on CartPole: 50,000 steps (25,000 reached 475 on 4 of 6 runs, seeds 42..44 on both backends; 50,000 on
    # 11 of 12, seeds 42..47)
    Entry("TRPO", "trpo", "CartPole-v1", {}, 4, 50_000, 475,
          {"rollouts": 64, "learning_epochs": 10, "mini_batches": 4, "value_learning_rate": 3e-3,
           "state_preprocessor": "RunningStandardScaler"}),
    # TRPO on Pendulum: Pendulum's usual discount 0.9 (as RPO's row and SB3-zoo), 256 x 4 transitions per update
    # and standardised values; with 64-step rollouts, discount 0.99 and 25,000 steps it missed on 2 or 3 of 3 seeds
    Entry("TRPO", "trpo", "Pendulum-v1", {}, 4, 50_000, -300,
          {"rollouts": 256, "learning_epochs": 10, "mini_batches": 8, "discount_factor": 0.9, "lambda": 0.95,
           "value_learning_rate": 1e-3, "state_preprocessor": "RunningStandardScaler",
           "value_preprocessor": "RunningStandardScaler"}),
    # CEM: 1,000-step rollouts (as skrl's CartPole example) and a learning rate decaying linearly to 0 over the run;
    # at a constant 1e-2 the fitted policy kept moving away from the goal (256-step rollouts: 1 of 3 seeds)
    Entry("CEM", "cem", "CartPole-v1", {}, 4, 100_000, 475,
          {"rollouts": 1000, "percentile": 0.7, "learning_rate": 1e-2, "learning_rate_scheduler": "LinearLR",
           "learning_rate_scheduler_kwargs": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 100_000 // 1000}}),
    Entry("Q_LEARNING", "q_learning", "FrozenLake-v1", {"is_slippery": False}, 4, 2_000, 1,
          {"discount_factor": 0.9, "learning_rate": 0.5}),
    Entry("SARSA", "sarsa", "FrozenLake-v1", {"is_slippery": False}, 4, 2_000, 1,
          {"discount_factor": 0.9, "learning_rate": 0.5}),
]


def _module(path: str) -> Any:
    return importlib.import_module(path)


def tabular_policy(backend: str, env: Any) -> Any:
    """An epsilon-greedy policy over a Q-table of ones with one row per env (as skrl 1.4.3 requires)."""
    models = _module(f"skrl.models.{backend}")
    if backend == "torch":
        import torch

        class TorchPolicy(models.TabularMixin, models.Model):
            def __init__(self) -> None:
                models.Model.__init__(self, env.observation_space, env.action_space, env.device)
                models.TabularMixin.__init__(self, env.num_envs)
                self.q_table = torch.ones((env.num_envs, self.num_observations, self.num_actions), device=self.device)

            def compute(self, inputs: dict, role: str) -> tuple:
                states = inputs["states"].reshape(-1).long()
                rows = torch.arange(states.shape[0], device=self.device) % self.num_envs
                greedy = self.q_table[rows, states].argmax(-1, keepdim=True)
                explore = torch.rand(greedy.shape, device=self.device) < EPSILON
                return torch.where(explore, torch.randint_like(greedy, self.num_actions), greedy), {}

        return TorchPolicy()
    import jax
    import jax.numpy as jnp

    class JaxPolicy(models.TabularMixin, models.Model):
        def __init__(self, **kwargs: Any) -> None:
            models.Model.__init__(self, env.observation_space, env.action_space, env.device, **kwargs)
            models.TabularMixin.__init__(self, env.num_envs)
            self.q_table = jnp.ones((env.num_envs, self.num_observations, self.num_actions))

        def __call__(self, inputs: dict, role: str) -> tuple:
            states = jnp.asarray(inputs["states"]).reshape(-1)
            greedy = jnp.argmax(self.q_table[jnp.arange(states.shape[0]) % self.num_envs, states], -1, keepdims=True)
            explore_key, action_key = jax.random.split(inputs["key"])
            explore = jax.random.uniform(explore_key, greedy.shape) < EPSILON
            return jnp.where(explore, jax.random.randint(action_key, greedy.shape, 0, self.num_actions), greedy), {}

    return JaxPolicy()


def rpo_policy(backend: str, env: Any) -> Any:
    """A Gaussian policy (64x64 tanh, mean torques in [-2, 2]) whose mean RPO perturbs by ``inputs["alpha"]``."""
    models = _module(f"skrl.models.{backend}")
    if backend == "torch":
        import torch
        import torch.nn as nn

        class TorchPolicy(models.GaussianMixin, models.Model):
            def __init__(self) -> None:
                models.Model.__init__(self, env.observation_space, env.action_space, env.device)
                models.GaussianMixin.__init__(self, clip_actions=True)
                self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 64),
                                         nn.Tanh(), nn.Linear(64, self.num_actions), nn.Tanh())
                self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

            def compute(self, inputs: dict, role: str) -> tuple:
                mean = 2 * self.net(inputs["states"])
                if "alpha" in inputs:
                    mean = mean + torch.empty_like(mean).uniform_(-inputs["alpha"], inputs["alpha"])
                return mean, self.log_std_parameter, {}

        return TorchPolicy()
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    class JaxPolicy(models.GaussianMixin, models.Model):
        def __init__(self, observation_space: Any, action_space: Any, device: Any = None, **kwargs: Any) -> None:
            models.Model.__init__(self, observation_space, action_space, device, **kwargs)
            models.GaussianMixin.__init__(self, clip_actions=True)

        @nn.compact
        def __call__(self, inputs: dict, role: str) -> tuple:
            x = nn.tanh(nn.Dense(64)(nn.tanh(nn.Dense(64)(inputs["states"]))))
            mean = 2 * nn.tanh(nn.Dense(self.num_actions)(x))
            if "alpha" in inputs:
                key = jax.random.fold_in(inputs["key"], 1)
                mean = mean + jax.random.uniform(key, mean.shape, minval=-inputs["alpha"], maxval=inputs["alpha"])
            return mean, self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}

    return JaxPolicy(env.observation_space, env.action_space, env.device)


def _policy(entry: Entry, backend: str, env: Any) -> Any:
    import gymnasium

    instantiators = _module(f"skrl.utils.model_instantiators.{backend}")
    spaces = (env.observation_space, env.action_space, env.device)
    if isinstance(env.action_space, gymnasium.spaces.Discrete):
        return instantiators.categorical_model(*spaces, network=NETWORK, output="ACTIONS")
    if entry.agent == "RPO":
        return rpo_policy(backend, env)
    return instantiators.gaussian_model(*spaces, network=NETWORK, output="2 * tanh(ACTIONS)")


def _linear_schedule(backend: str, cfg: dict) -> dict:
    """``LinearLR`` settings (torch's ``start_factor``, ``end_factor``, ``total_iters`` updates) as each backend's
    scheduler: ``torch.optim.lr_scheduler.LinearLR`` (stepped once per update, on skrl 1.4.3 too), or on JAX the
    same factor as an ``optax.linear_schedule`` of the timestep (JAX agents call a non-KL schedule with the
    timestep of the update: ``total_iters`` updates are ``total_iters * rollouts`` timesteps)."""
    kwargs = cfg["learning_rate_scheduler_kwargs"]
    if backend == "torch":
        return {"learning_rate_scheduler": _module("torch.optim.lr_scheduler").LinearLR}
    return {"learning_rate_scheduler": _module("optax").linear_schedule,
            "learning_rate_scheduler_kwargs": {"init_value": kwargs.get("start_factor", 1.0),
                                               "end_value": kwargs["end_factor"],
                                               "transition_steps": kwargs["total_iters"] * cfg["rollouts"]}}


def _resolved(settings: dict, backend: str, env: Any) -> dict:
    """``settings`` with the scheduler and preprocessors named by class replaced by the classes (and kwargs)."""
    cfg = dict(settings)
    if cfg.get("learning_rate_scheduler") == "LinearLR":
        cfg.update(_linear_schedule(backend, cfg))
    elif "learning_rate_scheduler" in cfg:
        cfg["learning_rate_scheduler"] = getattr(_module(f"skrl.resources.schedulers.{backend}"),
                                                 cfg["learning_rate_scheduler"])
    for key, size in (("state_preprocessor", env.observation_space), ("value_preprocessor", 1)):
        if key in cfg:
            cfg[key] = getattr(_module(f"skrl.resources.preprocessors.{backend}"), cfg[key])
            cfg[f"{key}_kwargs"] = {"size": size, "device": env.device}
    return cfg


def build(entry: Entry, backend: str, env: Any, directory: str) -> Any:
    package = _module(f"skrl.agents.{backend}.{entry.package}")
    cfg = {**getattr(package, f"{entry.agent}_DEFAULT_CONFIG"), **_resolved(entry.settings, backend, env)}
    cfg["experiment"] = {**cfg["experiment"], "directory": directory, "checkpoint_interval": 0}
    memory = None
    if entry.agent in ("Q_LEARNING", "SARSA"):
        models = {"policy": tabular_policy(backend, env)}
    else:
        models = {"policy": _policy(entry, backend, env)}
        if entry.agent != "CEM":
            models["value"] = _module(f"skrl.utils.model_instantiators.{backend}").deterministic_model(
                env.observation_space, env.action_space, env.device, network=NETWORK, output="ONE")
        for role, model in models.items():
            model.init_state_dict(role)
        memory = _module(f"skrl.memories.{backend}").RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs,
                                                                  device=env.device)
    return getattr(package, entry.agent)(models=models, memory=memory, observation_space=env.observation_space,
                                         action_space=env.action_space, device=env.device, cfg=cfg)


def greedy_return(table: np.ndarray, entry: Entry, episodes: int = 10, max_steps: int = 200) -> float:
    """Mean return of the greedy policy ``argmax Q[0, s]`` over fresh episodes (capped at ``max_steps``)."""
    import gymnasium

    env = gymnasium.make(entry.task, **entry.task_kwargs)
    returns = []
    for episode in range(episodes):
        state, _ = env.reset(seed=10_000 + episode)
        total = 0.0
        for _ in range(max_steps):
            state, reward, terminated, truncated, _ = env.step(int(np.argmax(table[0, state])))
            total += float(reward)
            if terminated or truncated:
                break
        returns.append(total)
    return float(np.mean(returns))


def evaluate(agent: Any, entry: Entry, backend: str) -> float:
    if entry.agent in ("Q_LEARNING", "SARSA"):
        table = agent.policy.table()
        return greedy_return(np.asarray(table.cpu() if hasattr(table, "cpu") else table), entry)
    return evaluate_through_act(agent, entry, backend)


def main() -> None:
    learning.self_running_main(__file__, ENTRIES, Entry, build, evaluate, sorted({entry.agent for entry in ENTRIES}))


if __name__ == "__main__":
    main()
