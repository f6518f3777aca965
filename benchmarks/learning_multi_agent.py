"""Multi-agent learning benchmark: IPPO and MAPPO on a small cooperative PettingZoo task, on both backends.

    python benchmarks/learning_multi_agent.py [--agents IPPO MAPPO] [--backends torch jax] [--seed 42] [--seeds 1]
                                              [--scale 1.0]
                                              [--skrl143 /path/to/venv-skrl143/bin/python] [--torch-threads 1]

The task (``SignalTask``, the PettingZoo parallel API): each of 3 agents sees a signal in {0, 1, 2} (one-hot) and
should answer it; every agent is rewarded with the team's share of right answers, and the global state is every
signal. An episode lasts 8 steps, so the team return (the sum of the agents' rewards) is 8 at random and 24 at best.
Agents are built from the public API that skrl 1.4.3 shares (``--skrl143`` runs this same file in the Python of an
environment that has it). The return is the mean over 20 episodes of the greedy policies after training; the rate
counts environment steps over the wall time of ``trainer.train()`` (JIT compilation and the data layer included).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

try:  # the wrappers use the parallel API only: the base class is optional
    from pettingzoo.utils.env import ParallelEnv
except ImportError:  # pragma: no cover - skrl 1.4.3 environments without pettingzoo
    ParallelEnv = object

MLP = [{"name": "net", "input": "STATES", "layers": [64], "activations": "tanh"}]
EXPERIMENT = {"directory": "", "experiment_name": "", "write_interval": 0, "checkpoint_interval": 0,
              "store_separately": False, "wandb": False, "wandb_kwargs": {}}  # complete: 1.4.3 merges shallowly
#: a learning rate of 3e-3 over 6,000 steps often froze one agent's answer to one signal on a wrong action (the
#: team return then stops at 21.3): on both backends, 1 or 2 seeds of 3 missed the goal; 1e-3 over 12,000 steps
#: reached 24 on every seed tried (42..47)
SETTINGS = {"rollouts": 32, "learning_epochs": 4, "mini_batches": 2, "learning_rate": 1e-3,
            "entropy_loss_scale": 0.01}
#: agent, timesteps, goal (team return of the greedy policies; 24 is the best)
ENTRIES = [("IPPO", 12_000, 22.0), ("MAPPO", 12_000, 22.0)]
EPISODE_LENGTH = 8


class SignalTask(ParallelEnv):
    """3 agents each answer their own signal; every agent gets the team's share of right answers (cooperative)."""

    metadata = {"name": "signal_v0"}

    def __init__(self, num_agents: int = 3, seed: int = 0) -> None:
        import gymnasium

        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.observation_spaces = {uid: gymnasium.spaces.Box(0, 1, (3,), np.float32) for uid in self.possible_agents}
        self.action_spaces = {uid: gymnasium.spaces.Discrete(3) for uid in self.possible_agents}
        self.state_space = gymnasium.spaces.Box(0, 1, (3 * num_agents,), np.float32)
        self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)  # skrl 1.4.3 counts the agents before the first reset
        self._signals: dict = {}
        self._t = 0

    def observation_space(self, agent: str) -> Any:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Any:
        return self.action_spaces[agent]

    def _observations(self) -> dict:
        self._signals = {uid: int(self._rng.integers(3)) for uid in self.possible_agents}
        return {uid: np.eye(3, dtype=np.float32)[self._signals[uid]] for uid in self.agents}

    def reset(self, seed: Any = None, options: Any = None) -> tuple:
        self.agents, self._t = list(self.possible_agents), 0
        return self._observations(), {uid: {} for uid in self.agents}

    def step(self, actions: dict) -> tuple:
        share = sum(int(np.asarray(actions[uid]).reshape(-1)[0]) == self._signals[uid] for uid in self.agents)
        share /= len(self.possible_agents)
        self._t += 1
        done = self._t >= EPISODE_LENGTH
        agents = list(self.agents)
        observations = self._observations()
        if done:
            self.agents = []
        return (observations, {uid: share for uid in agents}, {uid: False for uid in agents},
                {uid: done for uid in agents}, {uid: {} for uid in agents})

    def state(self) -> np.ndarray:
        return np.concatenate([np.eye(3, dtype=np.float32)[self._signals[uid]] for uid in self.possible_agents])


def _module(path: str) -> Any:
    return importlib.import_module(path)


def build(algorithm: str, backend: str, env: Any, directory: str) -> Any:
    instantiators = _module(f"skrl.utils.model_instantiators.{backend}")
    package = _module(f"skrl.multi_agents.{backend}.{algorithm.lower()}")
    models, memories = {}, {}
    for uid in env.possible_agents:
        value_space = env.state_space(uid) if algorithm == "MAPPO" else env.observation_space(uid)
        models[uid] = {
            "policy": instantiators.categorical_model(env.observation_space(uid), env.action_space(uid), env.device,
                                                      network=MLP, output="ACTIONS"),
            "value": instantiators.deterministic_model(value_space, env.action_space(uid), env.device, network=MLP,
                                                       output="ONE"),
        }
        for role, model in models[uid].items():
            model.init_state_dict(role)
        memories[uid] = _module(f"skrl.memories.{backend}").RandomMemory(memory_size=SETTINGS["rollouts"],
                                                                         num_envs=env.num_envs, device=env.device)
    cfg = {**getattr(package, f"{algorithm}_DEFAULT_CONFIG"), **SETTINGS,
           "experiment": {**EXPERIMENT, "directory": directory}}
    extra = {"shared_observation_spaces": env.state_spaces} if algorithm == "MAPPO" else {}
    return getattr(package, algorithm)(possible_agents=env.possible_agents, models=models, memories=memories,
                                       observation_spaces=env.observation_spaces, action_spaces=env.action_spaces,
                                       device=env.device, cfg=cfg, **extra)


def evaluate(agent: Any, backend: str, episodes: int = 20) -> float:
    """Mean team return of the greedy policies over ``episodes`` episodes of a fresh task."""
    task, total = SignalTask(seed=10_000), 0.0
    no_grad = _module("torch").no_grad() if backend == "torch" else contextlib.nullcontext()
    with no_grad:
        for _ in range(episodes):
            observations, _ = task.reset()
            while task.agents:
                actions = {}
                for uid, observation in observations.items():
                    states = observation.reshape(1, -1)
                    if backend == "torch":
                        states = _module("torch").as_tensor(states, device=agent.device)
                    outputs = agent.models[uid]["policy"].act({"states": states}, role="policy")[2]
                    logits = outputs["net_output"]
                    logits = logits.detach().cpu().numpy() if hasattr(logits, "detach") else np.asarray(logits)
                    actions[uid] = int(logits.argmax())
                observations, rewards, *_ = task.step(actions)
                total += sum(rewards.values())
    return total / episodes


def run(algorithm: str, backend: str, timesteps: int, seed: int, torch_threads: int) -> tuple[float, float]:
    """Train ``algorithm`` on ``backend``; return (greedy team return, environment steps/s)."""
    from skrl.utils import set_seed

    if backend == "torch":
        _module("torch").set_num_threads(torch_threads)
    set_seed(seed)
    env = _module(f"skrl.envs.wrappers.{backend}").wrap_env(SignalTask(seed=seed), wrapper="pettingzoo", verbose=False)
    with tempfile.TemporaryDirectory() as directory:
        agent = build(algorithm, backend, env, directory)
        trainer = _module(f"skrl.trainers.{backend}").SequentialTrainer(
            env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True,
                                        "close_environment_at_exit": False})
        start = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - start
        return evaluate(agent, backend), timesteps / elapsed


def run_skrl143(python: str, algorithm: str, timesteps: int, seed: int, torch_threads: int) -> tuple[float, float]:
    """The same run on skrl 1.4.3 (torch), in the Python of its own environment (NaNs where it fails)."""
    job = json.dumps([algorithm, "torch", timesteps, seed, torch_threads])
    result = subprocess.run([python, __file__, "--job", job], capture_output=True, text=True)
    if result.returncode:
        print(f"  skrl 1.4.3 failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}", flush=True)
        return float("nan"), float("nan")
    return tuple(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from learning import Entry, compare, parser_with_common_options

    parser = parser_with_common_options([entry[0] for entry in ENTRIES])
    parser.add_argument("--job", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        print(json.dumps(run(*json.loads(args.job))))
        return
    entries = [Entry(algorithm, "SignalTask", 1, steps, 0, goal) for algorithm, steps, goal in ENTRIES]

    def steps_of(entry: Any, scale: float) -> int:
        return max(1, int(entry.timesteps * scale))

    def run_ours(entry: Any, backend: str, seed: int, scale: float, threads: int) -> tuple[float, float, int]:
        return (*run(entry.agent, backend, steps_of(entry, scale), seed, threads), steps_of(entry, scale))

    def run_legacy(python: str, entry: Any, seed: int, scale: float, threads: int) -> tuple[float, float, int]:
        return (*run_skrl143(python, entry.agent, steps_of(entry, scale), seed, threads), steps_of(entry, scale))

    compare(entries, args, run_ours, run_legacy)


if __name__ == "__main__":
    sys.exit(main())
