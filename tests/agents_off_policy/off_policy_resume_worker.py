"""Run in subprocesses by test_off_policy_resume.py: train every off-policy agent, optionally resuming, dump the state.

    python off_policy_resume_worker.py BACKEND ROOT fresh    # ROOT/whole/<agent> (2N steps), ROOT/first/<agent> (N)
    python off_policy_resume_worker.py BACKEND ROOT resume   # ROOT/second/<agent>: ROOT/first/<agent>'s agent_N + N

Each run writes ``<run>/<agent>.npz`` with the agent's modules (parameters, optimizer states, scaler statistics),
its replay memory and its resume counters.
"""

import os
import sys
from collections.abc import Mapping

import gymnasium
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from builders import module, trainer  # noqa: E402
from off_policy_cases import AGENTS, is_discrete, make_agent, noise  # noqa: E402
from resume_worker import ClockEnv  # noqa: E402

N = 64


class DiscreteClockEnv(ClockEnv):
    def __init__(self, offset=0):
        super().__init__(offset)
        self.action_space = gymnasium.spaces.Discrete(3)

    def step(self, action):
        return super().step(np.full(2, float(np.asarray(action).reshape(-1)[0]) - 1, dtype=np.float32))


def _schedule(backend):
    if backend == "torch":
        import torch

        return torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.99}
    import optax

    return optax.exponential_decay, {"init_value": 1.0, "transition_steps": 10, "decay_rate": 0.9}


def _config(backend, agent, env, run_dir):
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    schedule, schedule_kwargs = _schedule(backend)
    cfg = {"batch_size": 16, "learning_starts": 8, "random_timesteps": 4, "gradient_steps": 2,
           "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
           "learning_rate_scheduler": schedule, "learning_rate_scheduler_kwargs": schedule_kwargs,
           "experiment": {"directory": run_dir, "experiment_name": agent, "write_interval": 16,
                          "checkpoint_interval": 32, "checkpoint_memory": True}}
    if agent in ("DDPG", "TD3"):
        cfg["exploration"] = {"noise": noise(backend, "ou" if agent == "DDPG" else "gaussian", env.device),
                              "timesteps": 100}
    if agent == "TD3":
        cfg["smooth_regularization_noise"] = noise(backend, "ou", env.device)
    if is_discrete(agent):
        cfg.update(update_interval=2, target_update_interval=3, exploration={"timesteps": 50})
    return cfg


def _flatten(tree, prefix, out):
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            _flatten(value, f"{prefix}/{key}", out)
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            _flatten(value, f"{prefix}/{i}", out)
    elif hasattr(tree, "detach"):
        out[prefix] = tree.detach().cpu().numpy()
    elif tree is not None and not isinstance(tree, str):
        out[prefix] = np.asarray(tree)


def _dump(agent, path):
    out = {}
    _flatten(agent._host_state(), "modules", out)
    _flatten(agent.memory.tensors, "memory", out)
    _flatten(agent._algorithm_state(), "algorithm", out)
    np.savez(path, **out)


def _train(backend, agent_name, root, run, timesteps, checkpoint=None):
    from skrl.utils import set_seed

    set_seed(7)
    offset = N if checkpoint else 0
    env_class = DiscreteClockEnv if is_discrete(agent_name) else ClockEnv
    env = module("envs.wrappers", backend).wrap_env(env_class(offset), wrapper="gymnasium", verbose=False)
    run_dir = os.path.join(root, run)
    agent = make_agent(backend, agent_name, env, _config(backend, agent_name, env, run_dir), memory_size=200)
    t = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    t.train()
    _dump(agent, os.path.join(run_dir, f"{agent_name}.npz"))


def main(backend, root, mode):
    module("agents", backend)  # importing jax draws from NumPy's generator: import before any run seeds it
    ext = ".pt" if backend == "torch" else ""
    for agent_name in AGENTS:
        if mode == "fresh":
            _train(backend, agent_name, root, "whole", 2 * N)
            _train(backend, agent_name, root, "first", N)
        else:
            checkpoint = os.path.join(root, "first", agent_name, "checkpoints", f"agent_{N}{ext}")
            _train(backend, agent_name, root, "second", 2 * N, checkpoint)


if __name__ == "__main__":
    main(*sys.argv[1:4])
