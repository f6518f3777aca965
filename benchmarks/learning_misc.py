"""Learning benchmark for TRPO, CEM, Q-learning and SARSA, both backends (same table as ``benchmarks/learning.py``).

    python benchmarks/learning_misc.py [--agents TRPO CEM ...] [--backends torch jax] [--seed 42] [--scale 1.0]
                                       [--skrl143 /path/to/venv-skrl143/bin/python]

Each entry trains an agent built from the public API, as a user would. The return is the mean over 10 fresh
episodes of the deterministic policy after training (the most likely or mean action; tabular agents: the greedy
action of the Q-table, at most 200 steps an episode); the rate counts training transitions over the wall time of
``trainer.train()`` (JIT compilation and the data layer included). With ``--skrl143`` each entry also runs on
skrl 1.4.3 (torch) with the same settings, through ``_skrl143_misc.py`` in that Python.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import subprocess
import tempfile
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
#: agent settings, shared with the skrl 1.4.3 runner (plain values only)
SETTINGS = {
    "TRPO": {"rollouts": 64, "learning_epochs": 10, "mini_batches": 4, "value_learning_rate": 3e-3},
    "CEM": {"rollouts": 256, "percentile": 0.7, "learning_rate": 1e-2},
    "Q_LEARNING": {"discount_factor": 0.9, "learning_rate": 0.5},
    "SARSA": {"discount_factor": 0.9, "learning_rate": 0.5},
}
EPSILON = 0.1  # exploration of the tabular epsilon-greedy policy


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row: an agent (package, class) on a gymnasium task with keyword arguments, run length and goal."""

    agent: str
    package: str
    task: str
    task_kwargs: dict
    num_envs: int
    timesteps: int
    goal: float


ENTRIES = [
    Entry("TRPO", "trpo", "CartPole-v1", {}, 4, 25_000, 475),
    Entry("TRPO", "trpo", "Pendulum-v1", {}, 4, 25_000, -300),
    Entry("CEM", "cem", "CartPole-v1", {}, 4, 25_000, 475),
    Entry("Q_LEARNING", "q_learning", "FrozenLake-v1", {"is_slippery": False}, 4, 2_000, 1),
    Entry("SARSA", "sarsa", "FrozenLake-v1", {"is_slippery": False}, 4, 2_000, 1),
]


def _module(path: str) -> Any:
    return importlib.import_module(path)


def make_env(entry: Entry, backend: str, seed: int) -> Any:
    import gymnasium

    env = gymnasium.make_vec(entry.task, num_envs=entry.num_envs, vectorization_mode="sync", **entry.task_kwargs)
    env.reset(seed=seed)
    return _module(f"skrl.envs.wrappers.{backend}").wrap_env(env, wrapper="gymnasium", verbose=False)


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


def policy_model(instantiators: Any, spaces: tuple) -> Any:
    """Categorical over a Discrete action space, else Gaussian with means in [-2, 2] (Pendulum's torque range)."""
    import gymnasium

    if isinstance(spaces[1], gymnasium.spaces.Discrete):
        return instantiators.categorical_model(*spaces, network=NETWORK, output="ACTIONS")
    return instantiators.gaussian_model(*spaces, network=NETWORK, output="2 * tanh(ACTIONS)")


def build(entry: Entry, backend: str, env: Any, directory: str) -> Any:
    cfg = {**SETTINGS[entry.agent], "experiment": {"directory": directory, "checkpoint_interval": 0}}
    memory = None
    if entry.agent in ("Q_LEARNING", "SARSA"):
        models = {"policy": tabular_policy(backend, env)}
    else:
        instantiators = _module(f"skrl.utils.model_instantiators.{backend}")
        spaces = (env.observation_space, env.action_space, env.device)
        models = {"policy": policy_model(instantiators, spaces)}
        if entry.agent == "TRPO":
            models["value"] = instantiators.deterministic_model(*spaces, network=NETWORK, output="ONE")
            scaler = _module(f"skrl.resources.preprocessors.{backend}").RunningStandardScaler
            cfg.update({"state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space}})
        for role, model in models.items():
            model.init_state_dict(role)
        memory = _module(f"skrl.memories.{backend}").RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs,
                                                                  device=env.device)
    agent_class = getattr(_module(f"skrl.agents.{backend}.{entry.package}"), entry.agent)
    return agent_class(models=models, memory=memory, observation_space=env.observation_space,
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
    from skrl._cli import evaluate as evaluate_policy

    return evaluate_policy(agent, entry.task, backend, episodes=10)


def run(entry: Entry, backend: str, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """Train ``entry`` on ``backend``; return (deterministic return, transitions/s, transitions)."""
    from skrl.utils import set_seed

    if backend == "torch":
        import torch

        torch.set_num_threads(torch_threads)

    set_seed(seed)
    env = make_env(entry, backend, seed)
    timesteps = max(1, int(entry.timesteps * scale))
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        agent = build(entry, backend, env, directory)
        trainer = _module(f"skrl.trainers.{backend}").SequentialTrainer(
            env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True,
                                        "close_environment_at_exit": False})
        start = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - start
        score = evaluate(agent, entry, backend)
    transitions = timesteps * entry.num_envs
    return score, transitions / elapsed, transitions


def run_skrl143(python: str, entry: Entry, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """The same entry on skrl 1.4.3 (torch), in the Python of its own environment (NaNs where it fails)."""
    job = {"entry": dataclasses.asdict(entry), "settings": SETTINGS[entry.agent], "network": NETWORK,
           "epsilon": EPSILON, "seed": seed, "timesteps": max(1, int(entry.timesteps * scale)),
           "torch_threads": torch_threads}
    result = subprocess.run([python, os.path.join(HERE, "_skrl143_misc.py"), json.dumps(job)], capture_output=True,
                            text=True)
    if result.returncode:
        print(f"  skrl 1.4.3 failed: {result.stderr.strip().splitlines()[-1]}", flush=True)
        return float("nan"), float("nan"), 0
    score, rate, transitions = json.loads(result.stdout.strip().splitlines()[-1])
    return score, rate, transitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="*", default=[entry.agent for entry in ENTRIES])
    parser.add_argument("--backends", nargs="*", default=["torch", "jax"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every entry's timesteps (quick runs)")
    parser.add_argument("--skrl143", default="", help="Python of an environment with skrl 1.4.3 (torch)")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads (small models: 1)")
    args = parser.parse_args()
    header = f"{'agent':10s} {'task':13s} {'backend':7s} {'transitions':>11s} {'return':>8s} {'goal':>6s} {'transitions/s':>13s}"
    print(header, flush=True)
    print("-" * len(header), flush=True)
    for entry in ENTRIES:
        if entry.agent not in args.agents:
            continue
        runs = [(backend, lambda b=backend: run(entry, b, args.seed, args.scale, args.torch_threads))
                for backend in args.backends]
        if args.skrl143:
            runs.append(("1.4.3", lambda: run_skrl143(args.skrl143, entry, args.seed, args.scale, args.torch_threads)))
        for label, job in runs:
            score, rate, transitions = job()
            print(f"{entry.agent:10s} {entry.task:13s} {label:7s} {transitions:11d} {score:8.1f} {entry.goal:6.0f} "
                  f"{rate:13.0f}", flush=True)


if __name__ == "__main__":
    main()
