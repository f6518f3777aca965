"""One PPO throughput run of skrl 1.4.3 (torch), run by ppo_throughput.py with the Python of a separate venv.

    /path/to/venv-skrl143/bin/python benchmarks/_skrl143_ppo.py ENV NUM_ENVS TRANSITIONS JOB_JSON

The job matches ``_ppo_run.py``: the same PPO settings and MLPs (from skrl's model instantiators), a
RunningStandardScaler on the states, KLAdaptiveLR, tracking and checkpoints at skrl's "auto" intervals.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

from _ppo_timing import UpdateClock, report


def _flat_discrete_actions(env: Any) -> Any:
    """skrl 1.4.3 hands a vector env discrete actions as ``(num_envs, 1)``; gymnasium's CartPole wants ``(num_envs,)``."""
    import gymnasium
    import numpy as np

    return gymnasium.wrappers.vector.TransformAction(env, lambda actions: np.asarray(actions).reshape(-1))


def build(env_id: str, num_envs: int, directory: str, job: dict) -> tuple:
    import gymnasium

    from skrl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
    from skrl.envs.wrappers.torch import wrap_env
    from skrl.memories.torch import RandomMemory
    from skrl.resources.preprocessors.torch import RunningStandardScaler
    from skrl.resources.schedulers.torch import KLAdaptiveLR
    from skrl.utils.model_instantiators.torch import categorical_model, deterministic_model, gaussian_model

    raw = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync") if num_envs > 1 else gymnasium.make(env_id)
    if num_envs > 1 and isinstance(raw.single_action_space, gymnasium.spaces.Discrete):
        raw = _flat_discrete_actions(raw)
    raw.reset(seed=0)
    env = wrap_env(raw, wrapper="gymnasium", verbose=False)
    spaces = (env.observation_space, env.action_space, env.device)
    discrete = isinstance(env.action_space, gymnasium.spaces.Discrete)
    policy = (categorical_model if discrete else gaussian_model)(*spaces, network=job["network"], output="ACTIONS")
    value = deterministic_model(*spaces, network=job["network"], output="ONE")
    rollouts = job["ppo"]["rollouts"]
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(job["ppo"])
    cfg.update({"state_preprocessor": RunningStandardScaler,
                "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
                "learning_rate_scheduler": KLAdaptiveLR, "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008}})
    cfg["experiment"] = {**cfg["experiment"], "directory": directory}
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=env.device)
    agent = PPO(models={"policy": policy, "value": value}, memory=memory, observation_space=env.observation_space,
                action_space=env.action_space, device=env.device, cfg=cfg)
    return env, agent


def main(env_id: str, num_envs: int, transitions: int, job: dict) -> None:
    from skrl.trainers.torch import SequentialTrainer

    with tempfile.TemporaryDirectory() as directory:
        env, agent = build(env_id, num_envs, directory, job)
        timesteps = transitions // num_envs
        trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True,
                                                                "disable_progressbar": True})
        clock = UpdateClock()
        agent._update = clock.wrap(agent._update, lambda timestep, timesteps: (timestep + 1) * num_envs)
        clock.start = time.perf_counter()
        trainer.train()
        report({"impl": "skrl-1.4.3-torch", **clock.summary(timesteps * num_envs, time.perf_counter())})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]))
