"""PPO throughput (transitions/s) on CartPole-v1 with 8 envs, torch and JAX side by side in one run.

    python benchmarks/ppo_throughput.py [--timesteps 2500] [--repeats 2]

Runs are interleaved (torch, jax, torch, jax, ...) so that machine noise hits both alike. Each run
builds the built-in job of ``python -m skrl train`` with tracking and checkpoints at their usual
intervals (the data layer is part of what is measured). The env alone is measured too, as a ceiling.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np


def env_only(timesteps: int, num_envs: int) -> float:
    import gymnasium

    env = gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(timesteps):
        env.step(np.random.randint(0, 2, num_envs))
    return timesteps * num_envs / (time.perf_counter() - start)


def one_run(backend: str, timesteps: int, num_envs: int) -> tuple[float, float]:
    import importlib

    from skrl._cli import build_agent, make_env

    with tempfile.TemporaryDirectory() as directory:
        env = make_env("CartPole-v1", num_envs, backend, seed=0)
        agent = build_agent(env, backend, {"experiment": {"directory": directory}})
        trainer_cls = importlib.import_module(f"skrl.trainers.{backend}").SequentialTrainer
        trainer = trainer_cls(env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True,
                                                          "disable_progressbar": True, "close_environment_at_exit": False})
        start = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - start
    return timesteps * num_envs / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=2500, help="env steps per env per run")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"torch": [], "jax": []}
    for _ in range(args.repeats):
        for backend in ("torch", "jax"):
            rate, elapsed = one_run(backend, args.timesteps, args.num_envs)
            results[backend].append(rate)
            print(f"{backend:5s}: {rate:8.0f} transitions/s ({elapsed:.1f} s, includes JIT compile)", flush=True)
    ceiling = env_only(args.timesteps, args.num_envs)
    torch_rate, jax_rate = statistics.median(results["torch"]), statistics.median(results["jax"])
    print(f"\nmedian over {args.repeats} runs of {args.timesteps * args.num_envs} transitions (CartPole-v1, {args.num_envs} envs)")
    print(f"  env alone : {ceiling:8.0f} transitions/s")
    print(f"  torch     : {torch_rate:8.0f} transitions/s")
    print(f"  jax       : {jax_rate:8.0f} transitions/s   (jax/torch = {jax_rate / torch_rate:.2f})")


if __name__ == "__main__":
    main()
