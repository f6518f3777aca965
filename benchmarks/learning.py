"""Learning benchmark: each agent on its standard task, on both backends; final returns and transitions/s.

    python benchmarks/learning.py [--agents SAC TD3 ...] [--backends torch jax] [--seed 42] [--seeds 1] [--scale 1.0]
                                  [--skrl143 /path/to/venv-skrl143/bin/python] [--torch-threads 1]

The table has one entry per agent (``ENTRIES``): its task (CartPole-v1 for discrete actions, Pendulum-v1 for
continuous ones), number of envs, timesteps and plain settings; agents are built from the public API only, as a
user writes them, so that the same code runs on skrl 1.4.3 (``--skrl143``: through ``_skrl143_learning.py`` in
the Python of an environment that has it). Other agents are added by appending entries. The return is the mean
over 10 fresh episodes of the deterministic policy (mean or greedy actions) after training; the rate counts
training transitions over the wall time of ``trainer.train()`` (JIT compilation and the data layer included).
"""

from __future__ import annotations

import argparse
import copy
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
MLP = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "relu"}]
CRITIC = [{"name": "net", "input": "STATES_ACTIONS", "layers": [64, 64], "activations": "relu"}]
Q_MLP = [{"name": "net", "input": "STATES", "layers": [128, 128], "activations": "relu"}]
EXPERIMENT = {"directory": "", "experiment_name": "", "write_interval": "auto", "checkpoint_interval": 0,
              "store_separately": False, "wandb": False, "wandb_kwargs": {}}  # complete: 1.4.3 merges shallowly

CONTINUOUS = {"batch_size": 256, "random_timesteps": 1000, "learning_starts": 1000}
TWIN = {"critic_1": "critic", "critic_2": "critic", "target_critic_1": "critic", "target_critic_2": "critic"}
GAUSSIAN = ["GaussianNoise", {"mean": 0.0, "std": 0.2}]
#: agent package, model roles ({role: kind}) and plain settings (noises as [class name, kwargs]) per agent
AGENTS = {
    "SAC": ("sac", {"policy": "gaussian", **TWIN}, {**CONTINUOUS, "initial_entropy_value": 0.1}),
    "TD3": ("td3", {"policy": "actor", "target_policy": "actor", **TWIN},
            {**CONTINUOUS, "smooth_regularization_noise": GAUSSIAN,
             "exploration": {"noise": GAUSSIAN, "initial_scale": 1.0, "final_scale": 0.5, "timesteps": None}}),
    "DDPG": ("ddpg", {"policy": "actor", "target_policy": "actor", "critic": "critic", "target_critic": "critic"},
             {**CONTINUOUS, "exploration": {"noise": ["OrnsteinUhlenbeckNoise", {"theta": 0.15, "sigma": 0.2,
                                                                              "base_scale": 1.0}],
                                            "initial_scale": 1.0, "final_scale": 0.5, "timesteps": None}}),
    "DQN": ("dqn", {"q_network": "q", "target_q_network": "q"},
            {"batch_size": 128, "learning_starts": 1000, "learning_rate": 5e-4, "gradient_steps": 2,
             "target_update_interval": 1, "polyak": 0.01,
             "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.01, "timesteps": 2500}}),
}
AGENTS["DDQN"] = AGENTS["DQN"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row: an agent on a gymnasium task, with its number of envs, timesteps, memory size and goal."""

    agent: str
    task: str
    num_envs: int
    timesteps: int
    memory_size: int
    goal: float


ENTRIES = [
    Entry("SAC", "Pendulum-v1", 1, 20_000, 20_000, -300),
    Entry("TD3", "Pendulum-v1", 1, 20_000, 20_000, -300),
    Entry("DDPG", "Pendulum-v1", 1, 20_000, 20_000, -300),
    Entry("DQN", "CartPole-v1", 4, 25_000, 50_000, 475),
    Entry("DDQN", "CartPole-v1", 4, 25_000, 50_000, 475),
]


def _module(path: str) -> Any:
    return importlib.import_module(path)


def legacy() -> bool:
    """Whether the skrl imported is 1.4.x (the 1.4.3 side of the comparison; this skrl is 1.5 and later)."""
    return _module("skrl").__version__.startswith("1.4.")


def make_env(entry: Entry, backend: str, seed: int, num_envs: int = 0) -> Any:
    import gymnasium

    env = gymnasium.make_vec(entry.task, num_envs=num_envs or entry.num_envs, vectorization_mode="sync",
                             **getattr(entry, "task_kwargs", {}))
    if legacy() and isinstance(env.single_action_space, gymnasium.spaces.Discrete):  # 1.4.3 hands (num_envs, 1)
        env = gymnasium.wrappers.vector.TransformAction(env, lambda actions: np.asarray(actions).reshape(-1))
    env.reset(seed=seed)
    return _module(f"skrl.envs.wrappers.{backend}").wrap_env(env, wrapper="gymnasium", verbose=False)


def _models(backend: str, env: Any, roles: dict[str, str]) -> dict:
    """``{role: kind}`` with kind "actor" (deterministic, 2·tanh), "gaussian", "critic" or "q" (one output per action)."""
    instantiators = _module(f"skrl.utils.model_instantiators.{backend}")
    spaces = (env.observation_space, env.action_space, env.device)
    builders = {
        "actor": lambda: instantiators.deterministic_model(*spaces, network=MLP, output="2 * tanh(ACTIONS)"),
        "gaussian": lambda: instantiators.gaussian_model(*spaces, clip_actions=True, network=MLP,
                                                         output="2 * tanh(ACTIONS)"),
        "critic": lambda: instantiators.deterministic_model(*spaces, network=CRITIC, output="ONE"),
        "q": lambda: instantiators.deterministic_model(*spaces, network=Q_MLP, output="ACTIONS"),
    }
    models = {}
    for role, kind in roles.items():
        models[role] = builders[kind]()
        models[role].init_state_dict(role)
    return models


def _with_noises(settings: Any, backend: str, device: Any) -> Any:
    """``settings`` with every ``[noise class name, kwargs]`` replaced by the noise."""
    if isinstance(settings, dict):
        return {key: _with_noises(value, backend, device) for key, value in settings.items()}
    if isinstance(settings, list) and len(settings) == 2 and str(settings[0]).endswith("Noise"):
        return getattr(_module(f"skrl.resources.noises.{backend}"), settings[0])(**settings[1], device=device)
    return settings


def build(entry: Entry, backend: str, env: Any, directory: str) -> Any:
    package, roles, settings = AGENTS[entry.agent]
    agents = _module(f"skrl.agents.{backend}.{package}")
    cfg = copy.deepcopy(getattr(agents, f"{entry.agent}_DEFAULT_CONFIG"))
    cfg.update(_with_noises(settings, backend, env.device))
    cfg["experiment"] = {**EXPERIMENT, "directory": directory}
    memory = _module(f"skrl.memories.{backend}").RandomMemory(memory_size=entry.memory_size, num_envs=env.num_envs,
                                                              device=env.device)
    return getattr(agents, entry.agent)(models=_models(backend, env, roles), memory=memory,
                                        observation_space=env.observation_space, action_space=env.action_space,
                                        device=env.device, cfg=cfg)


def _deterministic_actions(agent: Any, states: Any) -> Any:
    """Greedy (Q-network) or mean (policy) actions, straight from the models (the same on every skrl version)."""
    if "q_network" in agent.models:
        q_values = agent.models["q_network"].act({"states": states}, role="q_network")[0]
        return q_values.argmax(-1, keepdim=True) if hasattr(q_values, "detach") else q_values.argmax(-1, keepdims=True)
    actions, _, outputs = agent.models["policy"].act({"states": states}, role="policy")
    return outputs.get("mean_actions", actions)


def _to_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def evaluate(agent: Any, entry: Entry, backend: str, episodes: int = 10) -> float:
    """Mean return of the deterministic policy over ``episodes`` fresh episodes (one env each)."""
    import contextlib

    env = make_env(entry, backend, seed=10_000, num_envs=episodes)
    no_grad = _module("torch").no_grad() if backend == "torch" else contextlib.nullcontext()
    states, _ = env.reset()
    totals, active = np.zeros(episodes), np.ones(episodes, dtype=bool)
    with no_grad:
        while active.any():
            states, rewards, terminated, truncated, _ = env.step(_deterministic_actions(agent, states))
            totals += _to_numpy(rewards).reshape(-1) * active
            active &= ~(_to_numpy(terminated).reshape(-1).astype(bool) | _to_numpy(truncated).reshape(-1).astype(bool))
    env.close()
    return float(totals.mean())


def evaluate_through_act(agent: Any, entry: Any, backend: str, episodes: int = 10) -> float:
    """Mean return over ``episodes`` fresh episodes (one env each) of ``agent.act``'s deterministic action (the most
    likely for a categorical policy, else the mean), so that the agent's state preprocessor applies."""
    import contextlib

    env = make_env(entry, backend, seed=10_000, num_envs=episodes)
    agent.set_running_mode("eval")
    no_grad = _module("torch").no_grad() if backend == "torch" else contextlib.nullcontext()
    states, _ = env.reset()
    totals, active = np.zeros(episodes), np.ones(episodes, dtype=bool)
    with no_grad:
        while active.any():
            actions, _, outputs = agent.act(states, timestep=10**9, timesteps=10**9)
            if "net_output" in outputs:
                logits = outputs["net_output"]
                actions = logits.argmax(-1, keepdim=True) if hasattr(logits, "detach") else logits.argmax(-1, keepdims=True)
            else:
                actions = outputs.get("mean_actions", actions)
            states, rewards, terminated, truncated, _ = env.step(actions)
            totals += _to_numpy(rewards).reshape(-1) * active
            active &= ~(_to_numpy(terminated).reshape(-1).astype(bool) | _to_numpy(truncated).reshape(-1).astype(bool))
    env.close()
    return float(totals.mean())


def train_and_score(entry: Any, backend: str, seed: int, scale: float, torch_threads: int, build: Any = None,
                    evaluate: Any = None) -> tuple[float, float, int]:
    """Train ``entry`` on ``backend`` with ``build(entry, backend, env, directory)`` (default: this file's) and score
    it with ``evaluate(agent, entry, backend)``; return (deterministic return, transitions/s, transitions).
    Shared by every learning benchmark whose entries carry ``timesteps`` and ``num_envs``."""
    from skrl.utils import set_seed

    build, evaluate = build or globals()["build"], evaluate or globals()["evaluate"]
    if backend == "torch":
        _module("torch").set_num_threads(torch_threads)
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


def run(entry: Entry, backend: str, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """Train ``entry`` on ``backend``; return (deterministic return, transitions/s, transitions)."""
    return train_and_score(entry, backend, seed, scale, torch_threads)


def run_skrl143_job(python: str, command: list[str], job: dict) -> tuple[float, float, int]:
    """Run ``command + [JSON of job]`` in skrl 1.4.3's Python; its last line is ``[return, transitions/s,
    transitions]`` (NaNs, and the error's last line printed, where it fails)."""
    result = subprocess.run([python, *command, json.dumps(job)], capture_output=True, text=True)
    if result.returncode:
        print(f"  skrl 1.4.3 failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}", flush=True)
        return float("nan"), float("nan"), 0
    score, rate, transitions = json.loads(result.stdout.strip().splitlines()[-1])
    return score, rate, transitions


def run_skrl143_script(python: str, script: str, entry: Any, seed: int, scale: float,
                       torch_threads: int) -> tuple[float, float, int]:
    """``entry`` on skrl 1.4.3 (torch): ``script --job JSON`` in that Python, for benchmarks that run themselves
    there (NaNs where it fails)."""
    job = {"entry": dataclasses.asdict(entry), "seed": seed, "scale": scale, "torch_threads": torch_threads}
    return run_skrl143_job(python, [script, "--job"], job)


def run_skrl143(python: str, entry: Entry, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """The same entry on skrl 1.4.3 (torch), in the Python of its own environment (NaNs where it fails)."""
    job = {"entry": dataclasses.asdict(entry), "seed": seed, "scale": scale, "torch_threads": torch_threads}
    return run_skrl143_job(python, [os.path.join(HERE, "_skrl143_learning.py")], job)


def parser_with_common_options(agents: list[str]) -> argparse.ArgumentParser:
    """The options every learning benchmark takes (agents, backends, seeds, scale, skrl 1.4.3, torch threads)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="*", default=agents)
    parser.add_argument("--backends", nargs="*", default=["torch", "jax"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seeds", type=int, default=1,
                        help="run seeds seed, seed+1, ... (this many) for every implementation, interleaved seed by "
                             "seed; print the mean and median return, the success rate (return >= goal) and the "
                             "median rate")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every entry's timesteps (quick runs)")
    parser.add_argument("--skrl143", default="", help="Python of an environment with skrl 1.4.3 (torch)")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads (small models: 1)")
    return parser


def compare(entries: list, args: argparse.Namespace, run_one: Any, run_legacy: Any) -> None:
    """Print one row per entry and implementation: ``run_one(entry, backend, seed, scale, threads)`` for each of
    ``args.backends`` and, with ``args.skrl143``, ``run_legacy(python, entry, seed, scale, threads)``.

    With ``--seeds N`` the implementations run seed by seed, interleaved (a change of machine load hits them
    alike). Whether one seed reaches the goal can be chaotic: two runs that differ only by float rounding can end
    on either side of it (TD3 on Pendulum, the tabular agents' greedy readout), so compare success rates then.
    """
    header = (f"{'agent':10s} {'task':13s} {'backend':7s} {'transitions':>11s} {'return':>8s} {'goal':>6s} "
              f"{'transitions/s':>13s}")
    print(header, flush=True)
    print("-" * len(header), flush=True)
    seeds = [args.seed + i for i in range(max(1, args.seeds))]
    for entry in entries:
        if entry.agent not in args.agents:
            continue
        runs = [(backend, lambda seed, b=backend: run_one(entry, b, seed, args.scale, args.torch_threads))
                for backend in args.backends]
        if args.skrl143:
            runs.append(("1.4.3", lambda seed: run_legacy(args.skrl143, entry, seed, args.scale, args.torch_threads)))
        results: dict[str, list] = {label: [] for label, _ in runs}
        for seed in seeds:
            for label, job in runs:
                results[label].append(job(seed))
        for label, outcomes in results.items():
            scores, rates = [o[0] for o in outcomes], [o[1] for o in outcomes]
            line = (f"{entry.agent:10s} {entry.task:13s} {label:7s} {outcomes[0][2]:11d} {np.mean(scores):8.1f} "
                    f"{entry.goal:6.0f} {np.median(rates):13.0f}")
            if len(seeds) > 1:
                successes = sum(score >= entry.goal for score in scores)
                line += (f"   median return {np.median(scores):.1f}, success {successes}/{len(seeds)} "
                         f"(seeds {seeds[0]}..{seeds[-1]}: {' '.join(f'{x:.1f}' for x in scores)})")
            print(line, flush=True)


def self_running_main(script: str, entries: list, entry_class: Any, build: Any, evaluate: Any, agents: list[str]) -> None:
    """The command line of a benchmark that runs its own skrl 1.4.3 side (``learning_misc.py``, ``learning_rnn.py``):
    the comparison of ``entries``, or with the hidden ``--job JSON`` one torch run (made in 1.4.3's Python by
    ``run_skrl143_script``), printed as JSON."""
    def run_one(entry: Any, backend: str, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
        return train_and_score(entry, backend, seed, scale, torch_threads, build, evaluate)

    def run_legacy(python: str, entry: Any, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
        return run_skrl143_script(python, os.path.abspath(script), entry, seed, scale, torch_threads)

    parser = parser_with_common_options(agents)
    parser.add_argument("--job", default="", help=argparse.SUPPRESS)  # one torch run, as JSON (the 1.4.3 side)
    args = parser.parse_args()
    if args.job:
        job = json.loads(args.job)
        print(json.dumps(run_one(entry_class(**job["entry"]), "torch", job["seed"], job["scale"], job["torch_threads"])))
        return
    compare(entries, args, run_one, run_legacy)


def main() -> None:
    args = parser_with_common_options([entry.agent for entry in ENTRIES]).parse_args()
    compare(ENTRIES, args, run, run_skrl143)


if __name__ == "__main__":
    main()
