"""Learning benchmark for AMP, both backends, beside skrl 1.4.3 (same table as ``benchmarks/learning.py``).

    python benchmarks/learning_amp.py [--backends torch jax] [--seed 42] [--seeds 1] [--scale 1.0]
                                      [--skrl143 /path/to/venv-skrl143/bin/python] [--torch-threads 1]

AMP needs reference motions, which no gymnasium task ships. The task here is MountainCarContinuous-v0, which
PPO alone does not solve (the flag's reward is too rare to find by chance). The reference motions are transitions
of a scripted expert (full force along the velocity: ~89 return), as the discriminator sees them: position,
velocity and the force the motion implies; the environment's infos carry the agent's own transitions the same way
as ``infos["amp_obs"]`` (``examples/amp/_mountaincar_motions.py``, shared with the AMP examples). The agent gets the task reward and the discriminator's style reward, half each. The
return is the task's own over 10 fresh episodes of the mean action after training (goal: above 80, reaching the
flag every episode; a miss scores about -100 at full force); the rate counts training transitions over the wall
time of ``trainer.train()``. The agent is built from the public API that skrl 1.4.3 shares, so the same code runs
there (``--skrl143``: this file with ``--job`` in that Python).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, "examples", "amp")]
from _mountaincar_motions import AMP_SIZE, TASK, AMPTransitions, reference_motions  # noqa: E402
from learning import EXPERIMENT, Entry, compare, evaluate_through_act, parser_with_common_options, run_skrl143_job  # noqa: E402

ENTRY = Entry("AMP", TASK, 8, 12_500, 256, 80)  # memory_size: the rollout length
NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
SETTINGS = {"rollouts": 256, "learning_epochs": 8, "mini_batches": 8, "learning_rate": 1e-3,
            "discount_factor": 0.99, "lambda": 0.95, "grad_norm_clip": 0.5, "entropy_loss_scale": 0.0,
            "value_loss_scale": 1.0, "amp_batch_size": 512, "discriminator_batch_size": 512,
            "task_reward_weight": 0.5, "style_reward_weight": 0.5, "discriminator_gradient_penalty_scale": 0.5}


def build(backend: str, env: Any, directory: str, seed: int) -> Any:
    import gymnasium

    def module(path: str) -> Any:
        return __import__(f"skrl.{path}.{backend}", fromlist=["_"])

    instantiators, memories = module("utils.model_instantiators"), module("memories")
    amp_space = gymnasium.spaces.Box(-np.inf, np.inf, (AMP_SIZE,), dtype=np.float32)
    spaces = (env.observation_space, env.action_space, env.device)
    models = {
        "policy": instantiators.gaussian_model(*spaces, clip_actions=True, network=NETWORK, output="tanh(ACTIONS)"),
        "value": instantiators.deterministic_model(*spaces, network=NETWORK, output="ONE"),
        "discriminator": instantiators.deterministic_model(amp_space, env.action_space, env.device, network=NETWORK,
                                                           output="ONE"),
    }
    for role, model in models.items():
        model.init_state_dict(role)
    scaler = module("resources.preprocessors").RunningStandardScaler
    kl_adaptive = module("resources.schedulers").KLAdaptiveLR
    amp_module = __import__(f"skrl.agents.{backend}.amp", fromlist=["AMP"])
    cfg = copy.deepcopy(amp_module.AMP_DEFAULT_CONFIG)
    cfg.update(SETTINGS)
    cfg.update({"learning_rate_scheduler": kl_adaptive, "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
                "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space},
                "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
                "amp_state_preprocessor": scaler, "amp_state_preprocessor_kwargs": {"size": amp_space},
                "experiment": {**EXPERIMENT, "directory": directory}})
    if backend == "torch":  # skrl 1.4.3's torch scalers need the device
        for key in ("state_preprocessor_kwargs", "value_preprocessor_kwargs", "amp_state_preprocessor_kwargs"):
            cfg[key]["device"] = env.device
    return amp_module.AMP(models=models, cfg=cfg, observation_space=env.observation_space,
                          action_space=env.action_space, device=env.device, amp_observation_space=amp_space,
                          memory=memories.RandomMemory(memory_size=SETTINGS["rollouts"], num_envs=env.num_envs,
                                                       device=env.device),
                          motion_dataset=memories.RandomMemory(memory_size=20_000, device=env.device),
                          reply_buffer=memories.RandomMemory(memory_size=100_000, device=env.device),
                          collect_reference_motions=reference_motions(backend, env.device, seed))


def run(backend: str, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """Train AMP on ``backend``; return (task return of the mean action, transitions/s, transitions)."""
    import gymnasium

    from skrl.utils import set_seed

    if backend == "torch":
        import torch

        torch.set_num_threads(torch_threads)
    set_seed(seed)
    vector = gymnasium.make_vec(ENTRY.task, num_envs=ENTRY.num_envs, vectorization_mode="sync")
    vector.reset(seed=seed)
    wrap_env = __import__(f"skrl.envs.wrappers.{backend}", fromlist=["wrap_env"]).wrap_env
    env = AMPTransitions(wrap_env(vector, wrapper="gymnasium", verbose=False), backend)
    timesteps = max(1, int(ENTRY.timesteps * scale))
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        agent = build(backend, env, directory, seed)
        trainer = __import__(f"skrl.trainers.{backend}", fromlist=["_"]).SequentialTrainer(
            env=env, agents=agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True,
                                        "close_environment_at_exit": False})
        start = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - start
        score = evaluate_through_act(agent, ENTRY, backend)
    transitions = timesteps * ENTRY.num_envs
    return score, transitions / elapsed, transitions


def run_skrl143(python: str, seed: int, scale: float, torch_threads: int) -> tuple[float, float, int]:
    """The same run on skrl 1.4.3 (torch), this file in the Python of its own environment (NaNs where it fails)."""
    job = {"seed": seed, "scale": scale, "torch_threads": torch_threads}
    return run_skrl143_job(python, [os.path.abspath(__file__), "--job"], job)


def main() -> None:
    parser = parser_with_common_options([ENTRY.agent])
    parser.add_argument("--job", default="", help=argparse.SUPPRESS)  # one torch run, as JSON (the 1.4.3 side)
    args = parser.parse_args()
    if args.job:
        job = json.loads(args.job)
        print(json.dumps(run("torch", job["seed"], job["scale"], job["torch_threads"])))
        return
    compare([ENTRY], args, lambda entry, backend, *rest: run(backend, *rest),
            lambda python, entry, *rest: run_skrl143(python, *rest))


if __name__ == "__main__":
    main()
