"""``python -m skrl``: train PPO on a gymnasium task, or evaluate a checkpoint, on either backend.

    python -m skrl train --backend jax --env CartPole-v1 --num-envs 8 --timesteps 12500 --seed 42
    python -m skrl eval --backend jax --env CartPole-v1 --checkpoint runs/<run>/checkpoints/best_agent

Bad arguments get one clear line on stderr and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, Optional, Sequence

BACKENDS = ("torch", "jax")

#: PPO settings of the built-in job (CartPole-class tasks: solves CartPole-v1 in ~100k transitions with 8 envs)
JOB_PPO_CONFIG = {
    "rollouts": 128,
    "learning_epochs": 10,
    "mini_batches": 4,
    "discount_factor": 0.99,
    "lambda": 0.95,
    "learning_rate": 1e-3,
    "grad_norm_clip": 0.5,
    "ratio_clip": 0.2,
    "value_loss_scale": 0.5,
    "entropy_loss_scale": 0.0,
}
NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]


class CliError(Exception):
    """A bad command-line value; printed as one line."""


def _module(area: str, backend: str) -> Any:
    return importlib.import_module(f"skrl.{area}.{backend}")


def make_env(env_id: str, num_envs: int, backend: str, seed: Optional[int]) -> Any:
    import gymnasium

    if env_id not in gymnasium.registry:
        raise CliError(f"unknown --env {env_id!r}: not a registered gymnasium environment (e.g. CartPole-v1, Pendulum-v1)")
    if num_envs > 1:  # same-step autoreset: finished sub-envs reset inside the step (no extra reset call)
        env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync",
                                 vector_kwargs={"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP})
    else:
        env = gymnasium.make(env_id)
    env.reset(seed=seed)
    return _module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)


def build_agent(env: Any, backend: str, cfg_overrides: dict, memory_size: Optional[int] = None) -> Any:
    """PPO with 64x64 tanh MLPs from the model instantiators (the same code path for both backends)."""
    import gymnasium

    instantiators = _module("utils.model_instantiators", backend)
    device = env.device
    if isinstance(env.action_space, gymnasium.spaces.Discrete):
        policy = instantiators.categorical_model(env.observation_space, env.action_space, device,
                                                 network=NETWORK, output="ACTIONS")
    else:
        policy = instantiators.gaussian_model(env.observation_space, env.action_space, device,
                                              network=NETWORK, output="ACTIONS")
    value = instantiators.deterministic_model(env.observation_space, env.action_space, device,
                                              network=NETWORK, output="ONE")
    for role, model in (("policy", policy), ("value", value)):
        model.init_state_dict(role)
    scaler = importlib.import_module(f"skrl.resources.preprocessors.{backend}").RunningStandardScaler
    scheduler = importlib.import_module(f"skrl.resources.schedulers.{backend}").KLAdaptiveLR
    cfg = {**JOB_PPO_CONFIG, "state_preprocessor": scaler,
           "state_preprocessor_kwargs": {"size": env.observation_space, "device": device},
           "learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
           **cfg_overrides}
    memory = _module("memories", backend).RandomMemory(memory_size=memory_size or cfg["rollouts"],
                                                       num_envs=env.num_envs, device=device)
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    return ppo(models={"policy": policy, "value": value}, memory=memory, observation_space=env.observation_space,
               action_space=env.action_space, device=device, cfg=cfg)


def evaluate(agent: Any, env_id: str, backend: str, episodes: int = 10, seed: int = 10_000) -> float:
    """Mean return of the deterministic policy (mean actions) over ``episodes`` fresh episodes."""
    env = make_env(env_id, episodes, backend, seed)
    agent.set_running_mode("eval")
    returns = _run_episodes(agent, env, episodes)
    env.close()
    return returns


def _run_episodes(agent: Any, env: Any, episodes: int) -> float:
    import numpy as np

    states, _ = env.reset()
    totals = np.zeros(episodes)
    active = np.ones(episodes, dtype=bool)
    while active.any():
        outputs = agent.act(states, timestep=10**9, timesteps=10**9)
        actions = outputs[-1].get("mean_actions", outputs[0])
        if "net_output" in outputs[-1]:  # categorical: the most likely action
            actions = _argmax(outputs[-1]["net_output"])
        states, rewards, terminated, truncated, _ = env.step(actions)
        totals += np.asarray(_to_numpy(rewards)).reshape(-1) * active
        done = np.asarray(_to_numpy(terminated)).reshape(-1) | np.asarray(_to_numpy(truncated)).reshape(-1)
        active &= ~done.astype(bool)
    return float(totals.mean())


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    import numpy as np

    return np.asarray(x)


def _argmax(logits: Any) -> Any:
    if hasattr(logits, "argmax") and hasattr(logits, "detach"):
        return logits.argmax(dim=-1, keepdim=True)
    import numpy as np

    return np.asarray(logits).argmax(axis=-1)[:, None]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skrl", description="Train or evaluate PPO on a gymnasium task.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "eval"):
        p = sub.add_parser(name)
        p.add_argument("--backend", choices=BACKENDS, default="jax")
        p.add_argument("--env", default="CartPole-v1")
        p.add_argument("--num-envs", type=int, default=8)
        p.add_argument("--seed", type=int, default=42)
        if name == "train":
            p.add_argument("--timesteps", type=int, default=12_500, help="env steps per env (transitions = this x num-envs)")
            p.add_argument("--directory", default="runs")
        else:
            p.add_argument("run_dir", nargs="?", help="a run directory: rebuild the agent from its run.json")
            p.add_argument("--checkpoint", help="a checkpoint file/directory (default: the run's best, else latest)")
            p.add_argument("--episodes", type=int, default=10)
    from skrl._plot import add_plot_parser

    add_plot_parser(sub)
    convert = sub.add_parser("convert", help="convert a checkpoint between torch (.pt) and JAX (orbax directory)")
    convert.add_argument("source")
    convert.add_argument("destination")
    convert.add_argument("--to", choices=BACKENDS, required=True)
    return parser


def _check(args: argparse.Namespace) -> None:
    if args.command == "convert":
        if not os.path.exists(args.source):
            raise CliError(f"checkpoint {args.source!r} does not exist")
        return
    if args.command == "plot":
        return
    if args.num_envs < 1:
        raise CliError(f"--num-envs must be >= 1, got {args.num_envs}")
    if getattr(args, "timesteps", 1) < 1:
        raise CliError(f"--timesteps must be >= 1, got {args.timesteps}")
    if getattr(args, "checkpoint", None) and not os.path.exists(args.checkpoint):
        raise CliError(f"--checkpoint {args.checkpoint!r} does not exist")
    if args.command == "eval":
        if not args.run_dir and not args.checkpoint:
            raise CliError("eval needs a RUN_DIR or --checkpoint PATH")
        if args.run_dir and not os.path.isdir(args.run_dir):
            raise CliError(f"RUN_DIR {args.run_dir!r} is not a directory")


def train(args: argparse.Namespace) -> None:
    from skrl.utils import set_seed

    set_seed(args.seed)
    env = make_env(args.env, args.num_envs, args.backend, args.seed)
    agent = build_agent(env, args.backend, {"experiment": {"directory": args.directory}})
    trainer = _module("trainers", args.backend).SequentialTrainer(
        env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True, "close_environment_at_exit": False})
    trainer.train()
    print(f"run directory: {agent.experiment_dir}")
    print(f"final evaluation return: {evaluate(agent, args.env, args.backend):.1f}")


def eval_checkpoint(args: argparse.Namespace) -> None:
    from skrl.utils import set_seed

    set_seed(args.seed)
    if args.run_dir:
        from skrl._rebuild import agent_from_run
        from skrl.common.run_manifest import find_checkpoint, read_manifest

        manifest = read_manifest(args.run_dir)
        backend = args.backend_given or manifest["backend"]
        env_id = manifest["environment"].get("id") or args.env
        env = make_env(env_id, 1, backend, args.seed)
        agent = agent_from_run(args.run_dir, env, backend)
        checkpoint = args.checkpoint or find_checkpoint(args.run_dir, "best")
    else:
        backend, env_id, checkpoint = args.backend, args.env, args.checkpoint
        env = make_env(env_id, 1, backend, args.seed)
        agent = build_agent(env, backend, {"experiment": {"write_interval": 0, "checkpoint_interval": 0}})
        agent.init(trainer_cfg={"timesteps": 0})
    agent.load(checkpoint)
    print(f"checkpoint: {checkpoint}")
    print(f"evaluation return: {evaluate(agent, env_id, backend, episodes=args.episodes):.1f}")


def _plot(args: argparse.Namespace) -> None:
    from skrl._plot import plot

    plot(args)


def convert(args: argparse.Namespace) -> None:
    from skrl._conversion_io import convert_checkpoint

    skipped = convert_checkpoint(args.source, args.destination, args.to)
    print(f"converted {args.source} -> {args.destination} ({args.to})" + (f"; not converted: {', '.join(skipped)}" if skipped else ""))


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.backend_given = getattr(args, "backend", None) if "--backend" in argv else None
    try:
        _check(args)
        {"train": train, "eval": eval_checkpoint, "convert": convert, "plot": _plot}[args.command](args)
    except CliError as e:
        print(f"skrl: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as e:
        print(f"skrl: error: {e}", file=sys.stderr)
        return 2
    return 0
