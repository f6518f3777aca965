"""What tracking and checkpoints cost: PPO on CartPole-v1 (8 envs) with logging off and on, both backends.

    python benchmarks/logging_overhead.py [--timesteps 12500] [--repeats 3] [--backends torch jax] [--torch-threads 1]

"off" is ``write_interval: 0, checkpoint_interval: 0``. "on" is the spec default (``"auto"`` intervals: TensorBoard
every timesteps/100, a checkpoint every timesteps/10, the best model). Runs alternate off/on (the order flips each
repeat, so that drift of the machine hits both alike) with the same seed, so both train on the same trajectories.
Each backend first does a short untimed warm-up run in both modes (imports, JIT compilation). The overhead is the
"on" time over the "off" time, minus 1, from the fastest run of each mode (the least disturbed by other load on
the machine) and from the medians. The goal is at most 2%.

On a shared machine the on/off difference is noisy, so every run also times the data layer itself (the
``AgentCore`` methods in ``DATA_LAYER_METHODS``) and reports it against the rest of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import statistics
import tempfile
import time
from typing import Any, Iterator

ENV_ID = "CartPole-v1"
MODES = {"off": {"write_interval": 0, "checkpoint_interval": 0}, "on": {}}
WARM_UP_TIMESTEPS = 300
#: the agent's data-layer entry points (statistics, tracking, checkpoints, closing), timed in every run
DATA_LAYER_METHODS = ("record_transition", "track_data", "write_tracking_data", "write_checkpoint", "on_loop_end",
                      "close")


@contextlib.contextmanager
def timed_data_layer() -> Iterator[dict]:
    """Time the outermost calls of ``AgentCore``'s data-layer methods (``record_transition``: the base part that
    every agent runs first). A direct measure of the data layer's cost, much less noisy than an on/off difference."""
    from skrl.common.agent_core import AgentCore

    spent = {"seconds": 0.0, "depth": 0}
    originals = {name: getattr(AgentCore, name) for name in DATA_LAYER_METHODS}

    def timed(method: Any) -> Any:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            spent["depth"] += 1
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent["depth"] -= 1
                if not spent["depth"]:
                    spent["seconds"] += time.perf_counter() - start
        return wrapper

    for name, method in originals.items():
        setattr(AgentCore, name, timed(method))
    try:
        yield spent
    finally:
        for name, method in originals.items():
            setattr(AgentCore, name, method)


def one_run(backend: str, mode: str, timesteps: int, num_envs: int, seed: int, torch_threads: int = 1) -> dict[str, float]:
    """Wall-clock and CPU seconds (this process, all threads) spent in ``trainer.train()``.

    CPU time is less disturbed by other processes on a busy machine; wall time also counts file I/O waits.
    """
    from skrl._cli import build_agent, make_env
    from skrl.utils import set_seed

    if backend == "torch":
        importlib.import_module("torch").set_num_threads(torch_threads)
    set_seed(seed)
    with tempfile.TemporaryDirectory() as directory:
        env = make_env(ENV_ID, num_envs, backend, seed)
        agent = build_agent(env, backend, {"experiment": {"directory": directory, **MODES[mode]}})
        trainer_cls = importlib.import_module(f"skrl.trainers.{backend}").SequentialTrainer
        trainer = trainer_cls(env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True,
                                                          "disable_progressbar": True, "close_environment_at_exit": False})
        with timed_data_layer() as data_layer:
            wall, cpu = time.perf_counter(), time.process_time()
            trainer.train()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        env.close()
    return {"wall": wall, "cpu": cpu, "data_layer": data_layer["seconds"]}


def measure(backends: list[str], timesteps: int, num_envs: int, repeats: int, seed: int, torch_threads: int = 1) -> dict:
    """``{backend: {"off": [{"wall": s, "cpu": s}, ...], "on": [...]}}``, runs interleaved across modes and backends."""
    times: dict = {backend: {"off": [], "on": []} for backend in backends}
    for backend in backends:
        for mode in MODES:
            one_run(backend, mode, WARM_UP_TIMESTEPS, num_envs, seed, torch_threads)
    for repeat in range(repeats):
        order = ("off", "on") if repeat % 2 == 0 else ("on", "off")
        for backend in backends:
            for mode in order:
                run = one_run(backend, mode, timesteps, num_envs, seed, torch_threads)
                times[backend][mode].append(run)
                print(f"  {backend:5s} {mode:3s}: wall {run['wall']:6.2f} s ({timesteps * num_envs / run['wall']:6.0f} "
                      f"transitions/s), cpu {run['cpu']:6.2f} s, data layer {run['data_layer']:5.2f} s "
                      f"({run['data_layer'] / (run['wall'] - run['data_layer']) * 100:.1f}%)", flush=True)
    return times


def report(times: dict, timesteps: int, num_envs: int) -> None:
    transitions = timesteps * num_envs
    runs = len(next(iter(times.values()))["off"])
    print(f"\nPPO {ENV_ID}, {num_envs} envs, {transitions} transitions per run, {runs} runs per mode "
          "(transitions/s from wall time; overheads = on/off - 1)")
    print(f"  {'backend':8s} {'off':>7s} {'on':>7s}  {'wall best':>9s} {'wall med':>9s} {'cpu best':>9s} {'cpu med':>9s}"
          f" {'data layer':>10s}")
    for backend, modes in times.items():
        cells = []
        for clock in ("wall", "cpu"):
            off, on = [run[clock] for run in modes["off"]], [run[clock] for run in modes["on"]]
            cells += [_percent(min(off), min(on)), _percent(statistics.median(off), statistics.median(on))]
        off_rate = transitions / min(run["wall"] for run in modes["off"])
        on_rate = transitions / min(run["wall"] for run in modes["on"])
        share = statistics.median(run["data_layer"] / (run["wall"] - run["data_layer"]) for run in modes["on"])
        print(f"  {backend:8s} {off_rate:7.0f} {on_rate:7.0f}  " + " ".join(f"{c:>9s}" for c in cells)
              + f" {share * 100:+9.1f}%")
    print("  data layer: time inside the data layer / the rest of the same 'on' run (median): the overhead measured\n"
          "  within each run, so that other load on the machine cancels out")


def _percent(off: float, on: float) -> str:
    return f"{(on / off - 1) * 100:+.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=12_500, help="env steps per env per run (x num-envs transitions)")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="off/on pairs per backend")
    parser.add_argument("--backends", nargs="+", default=["torch", "jax"], choices=["torch", "jax"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads (default 1, as ppo_throughput.py: with more, the small matmuls of "
                             "this job contend with the checkpoint thread and other load, and runs vary by 15%%)")
    args = parser.parse_args()
    times = measure(args.backends, args.timesteps, args.num_envs, args.repeats, args.seed, args.torch_threads)
    report(times, args.timesteps, args.num_envs)


if __name__ == "__main__":
    main()
