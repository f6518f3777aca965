"""Checkpoint save/load cost for PPO agents of ~9k, ~135k and ~4.2M parameters, torch and JAX side by side.

    python benchmarks/checkpoint_io.py [--repeats 5]

Columns: ``block`` = time the training thread spends in ``write_checkpoint`` (the host copy; the file is written
on the checkpoint thread), ``durable`` = until the file is complete on disk, ``load`` = ``agent.load``, and the
size on disk (parameters + Adam state + preprocessor + resume state).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

SIZES = {"9k": [64, 64], "135k": [256, 256], "4.2M": [1024, 1024, 1024]}


def _size_on_disk(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def measure(backend: str, layers: list, repeats: int) -> dict:
    from builders import make_ppo, ppo_models, wrapped_gym_env

    from skrl.common import background_writer

    with tempfile.TemporaryDirectory() as directory:
        env = wrapped_gym_env(backend, "CartPole-v1", num_envs=1)
        network = [{"name": "net", "input": "STATES", "layers": layers, "activations": "tanh"}]
        models = ppo_models(backend, env.observation_space, env.action_space, env.device, network=network)
        agent = make_ppo(backend, env, {"experiment": {"directory": directory, "write_interval": 0,
                                                       "checkpoint_interval": 1}}, models=models)
        agent.init(trainer_cfg={"timesteps": 10})
        params = sum(p.numel() for m in models.values() for p in m.parameters()) if backend == "torch" else \
            sum(x.size for m in models.values() for x in __import__("jax").tree_util.tree_leaves(m.state_dict.params))
        block, durable, load = [], [], []
        for i in range(repeats):
            start = time.perf_counter()
            agent.write_checkpoint(i + 1, 10)
            block.append(time.perf_counter() - start)
            background_writer.wait()
            durable.append(time.perf_counter() - start)
        path = os.path.join(agent.experiment_dir, "checkpoints", f"agent_{repeats}" + (".pt" if backend == "torch" else ""))
        for _ in range(repeats):
            start = time.perf_counter()
            agent.load(path)
            load.append(time.perf_counter() - start)
        return {"params": params, "block": statistics.median(block), "durable": statistics.median(durable),
                "load": statistics.median(load), "size": _size_on_disk(path)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'agent':>6} {'backend':>7} {'params':>9} {'block ms':>9} {'durable ms':>11} {'load ms':>8} {'size MB':>8}")
    for name, layers in SIZES.items():
        for backend in ("torch", "jax"):
            r = measure(backend, layers, args.repeats)
            print(f"{name:>6} {backend:>7} {r['params']:>9} {r['block'] * 1e3:>9.1f} {r['durable'] * 1e3:>11.1f} "
                  f"{r['load'] * 1e3:>8.1f} {r['size'] / 1e6:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
