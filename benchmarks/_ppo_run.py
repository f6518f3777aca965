"""One PPO throughput run of this skrl (run by ppo_throughput.py in a fresh process).

    python benchmarks/_ppo_run.py IMPL ENV NUM_ENVS TRANSITIONS JOB_JSON

IMPL: ``torch``, ``jax-numpy`` / ``jax-jax`` (SequentialTrainer, ``config.jax.backend``) or ``jax-jitted``
(JittedTrainer on the gymnax version of ENV). Tracking and checkpoints are on, at their "auto" intervals.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import time

from _ppo_timing import UpdateClock, report


def build(impl: str, env_id: str, num_envs: int, directory: str, ppo: dict) -> tuple:
    from skrl import config
    from skrl._cli import build_agent, make_env

    backend = "torch" if impl == "torch" else "jax"
    if impl == "jax-jax":
        config.jax.backend = "jax"
    if impl == "jax-jitted":
        import gymnax

        from skrl.envs.wrappers.jax import wrap_env

        env = wrap_env(gymnax.make(env_id)[0], wrapper="gymnax", num_envs=num_envs, seed=0)
    else:
        env = make_env(env_id, num_envs, backend, seed=0)
    return backend, env, build_agent(env, backend, {**ppo, "experiment": {"directory": directory}})


def main(impl: str, env_id: str, num_envs: int, transitions: int, job: dict) -> None:
    with tempfile.TemporaryDirectory() as directory:
        backend, env, agent = build(impl, env_id, num_envs, directory, job["ppo"])
        timesteps = transitions // num_envs
        cfg = {"timesteps": timesteps, "disable_progressbar": True, "close_environment_at_exit": False}
        trainers = importlib.import_module(f"skrl.trainers.{backend}")
        clock = UpdateClock()
        if impl == "jax-jitted":
            trainer = trainers.JittedTrainer(env=env, agents=agent, cfg=cfg)
            trainer._hand_over = clock.wrap(trainer._hand_over, lambda _agent, _carry, chunk, _training: chunk.end * num_envs)
        else:
            trainer = trainers.SequentialTrainer(env=env, agents=agent, cfg={**cfg, "headless": True})
            agent._update = clock.wrap(agent._update, lambda timestep, timesteps: (timestep + 1) * num_envs)
        clock.start = time.perf_counter()
        trainer.train()
        report({"impl": impl, **clock.summary(timesteps * num_envs, time.perf_counter())})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5]))
