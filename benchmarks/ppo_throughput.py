"""PPO throughput (transitions/s) of this skrl on torch and JAX against skrl 1.4.3 torch, in one interleaved run.

    python benchmarks/ppo_throughput.py                          # every case, 100,352 transitions each, 1 repeat
    python benchmarks/ppo_throughput.py --cases cartpole-8 --impls jax-numpy,skrl143 --transitions 20480

Job (every implementation): PPO with 1024 transitions per update (``rollouts = 1024 / num_envs``), 5 epochs x 4
mini-batches, 64x64 tanh MLPs, RunningStandardScaler, KLAdaptiveLR, tracking and checkpoints at the "auto"
intervals. Each run is a fresh process (warm-up and JIT compilation included), and the implementations are
interleaved within each repeat so that machine noise hits them alike. Printed per run and as medians: overall
transitions/s (wall time of ``trainer.train()``), steady transitions/s (between the first and the last update),
warm-up seconds (the first update's extra time over a steady one) and the ratios to skrl 1.4.3.

Implementations: ``torch``, ``jax-numpy`` and ``jax-jax`` (``config.jax.backend``) with ``SequentialTrainer``,
``jax-jitted`` (``JittedTrainer`` on the gymnax version of the task; needs ``pip install skrl[gymnax]``) and
``skrl143`` (skrl 1.4.3 torch, run by the Python of a separate venv: ``--venv`` or ``$SKRL143_VENV``, default
``/work/venv-skrl143``). Create that venv with::

    python -m venv /work/venv-skrl143
    /work/venv-skrl143/bin/pip install skrl==1.4.3 torch==2.13.0 gymnasium tensorboard -c constraints.txt

Torch runs use ``--torch-threads`` intra-op threads (default 1: on a busy 2-core machine more threads make the
small matmuls of this job many times slower, for both skrl versions alike).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {"cartpole-8": ("CartPole-v1", 8), "cartpole-1": ("CartPole-v1", 1),
         "pendulum-8": ("Pendulum-v1", 8), "pendulum-1": ("Pendulum-v1", 1)}
IMPLS = ("skrl143", "torch", "jax-numpy", "jax-jax", "jax-jitted")
BASELINE = "skrl143"


def env_only(env_id: str, num_envs: int, steps: int = 2000) -> float:
    """Transitions/s of the gymnasium env alone with random actions (a ceiling for the host-env paths)."""
    import gymnasium

    env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(64)]
    start = time.perf_counter()
    for i in range(steps):
        env.step(actions[i % 64])
    return steps * num_envs / (time.perf_counter() - start)


def job(num_envs: int) -> dict:
    """The PPO job of every implementation: the CLI's built-in job with 5 epochs and 1024 transitions per update."""
    from skrl._cli import JOB_PPO_CONFIG, NETWORK

    return {"ppo": {**JOB_PPO_CONFIG, "learning_epochs": 5, "rollouts": 1024 // num_envs}, "network": NETWORK}


def one_run(impl: str, env_id: str, num_envs: int, transitions: int, venv: str, torch_threads: int) -> Optional[dict]:
    """Run one implementation in a fresh process; its result dict, or None (with the reason printed) on failure."""
    if impl == BASELINE:
        command = [os.path.join(venv, "bin", "python"), os.path.join(HERE, "_skrl143_ppo.py"), env_id, str(num_envs)]
    else:
        command = [sys.executable, os.path.join(HERE, "_ppo_run.py"), impl, env_id, str(num_envs)]
    environment = {**os.environ, "PYTHONPATH": HERE + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if impl in (BASELINE, "torch"):
        environment["OMP_NUM_THREADS"] = str(torch_threads)
    arguments = [str(transitions), json.dumps(job(num_envs))]
    done = subprocess.run(command + arguments, capture_output=True, text=True, env=environment)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(f"  {impl}: failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def _format(result: dict) -> str:
    steady = result.get("steady_rate", float("nan"))
    return (f"{result['rate']:8.0f} transitions/s overall, {steady:8.0f} steady, "
            f"warm-up {result.get('warmup_s', float('nan')):5.2f} s, total {result['total_s']:6.1f} s")


def run_case(case: str, impls: list[str], args: argparse.Namespace) -> dict[str, list[dict]]:
    env_id, num_envs = CASES[case]
    results: dict[str, list[dict]] = {impl: [] for impl in impls}
    print(f"\n== {case}: {env_id}, {num_envs} env(s), {args.transitions} transitions, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for repeat in range(args.repeats):
        for impl in impls:
            result = one_run(impl, env_id, num_envs, args.transitions, args.venv, args.torch_threads)
            if result is not None:
                results[impl].append(result)
                print(f"  [{repeat + 1}] {impl:10s}: {_format(result)}", flush=True)
    return results


def summarize(case: str, results: dict[str, list[dict]]) -> None:
    env_id, num_envs = CASES[case]
    medians = {impl: {key: statistics.median(r[key] for r in runs if key in r) for key in ("rate", "steady_rate", "warmup_s")}
               for impl, runs in results.items() if runs}
    base = medians.get(BASELINE)
    print(f"-- {case} medians (env alone: {env_only(env_id, num_envs):.0f} transitions/s; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for impl, median in medians.items():
        ratios = ""
        if base and impl != BASELINE:
            ratios = (f"  x{median['rate'] / base['rate']:.2f} overall, "
                      f"x{median['steady_rate'] / base['steady_rate']:.2f} steady vs skrl 1.4.3")
        print(f"  {impl:10s}: {median['rate']:8.0f} overall, {median['steady_rate']:8.0f} steady, "
              f"warm-up {median['warmup_s']:5.2f} s{ratios}")
    if base is None and BASELINE in results:
        print("  (no skrl 1.4.3 result: create its venv as the module docstring says, or pass --venv)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--impls", default=",".join(IMPLS), help=f"comma-separated, from {', '.join(IMPLS)}")
    parser.add_argument("--transitions", type=int, default=100_352, help="transitions per run (98 updates of 1024)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--venv", default=os.environ.get("SKRL143_VENV", "/work/venv-skrl143"))
    parser.add_argument("--torch-threads", type=int, default=1)
    return parser


def main() -> None:
    args = _parser().parse_args()
    cases, impls = args.cases.split(","), args.impls.split(",")
    unknown = [c for c in cases if c not in CASES] + [i for i in impls if i not in IMPLS]
    if unknown:
        sys.exit(f"unknown case or implementation: {', '.join(unknown)} (cases: {', '.join(CASES)}; "
                 f"implementations: {', '.join(IMPLS)})")
    if BASELINE in impls and not os.path.exists(os.path.join(args.venv, "bin", "python")):
        print(f"skrl 1.4.3 venv not found at {args.venv}: skipping it. Create it with:\n"
              f"  python -m venv {args.venv}\n  {args.venv}/bin/pip install skrl==1.4.3 torch==2.13.0 gymnasium "
              "tensorboard -c constraints.txt")
        impls = [impl for impl in impls if impl != BASELINE]
    for case in cases:
        summarize(case, run_case(case, impls, args))


if __name__ == "__main__":
    main()
