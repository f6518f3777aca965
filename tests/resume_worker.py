"""Run in a subprocess by test_resume.py: train PPO on a deterministic env, optionally resuming, then dump the state.

    python resume_worker.py BACKEND RUN_DIR TIMESTEPS OUT.npz [CHECKPOINT]
"""

import sys

import gymnasium
import numpy as np
from builders import make_ppo, module, trainer


class ClockEnv(gymnasium.Env):
    """Observations and episode ends depend only on a global step counter, so a resumed run sees the same data."""

    def __init__(self, offset=0):
        self.observation_space = gymnasium.spaces.Box(-1, 1, (4,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Box(-1, 1, (2,), dtype=np.float32)
        self.t = offset

    def _obs(self):
        return np.random.default_rng(self.t).uniform(-1, 1, 4).astype(np.float32)

    def reset(self, *, seed=None, options=None):
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        reward = float(np.sin(self.t) - 0.5 * np.sum(np.square(action)))
        return self._obs(), reward, self.t % 7 == 0, False, {}


def dump(backend, agent, path):
    out = {}
    if backend == "torch":
        for role in ("policy", "value"):
            for k, v in agent.models[role].state_dict().items():
                out[f"{role}/{k}"] = v.detach().numpy()
        for i, s in agent.optimizer.state_dict()["state"].items():
            out[f"opt/{i}/exp_avg"] = s["exp_avg"].numpy()
            out[f"opt/{i}/exp_avg_sq"] = s["exp_avg_sq"].numpy()
        for k, v in agent._state_preprocessor.state_dict().items():
            out[f"scaler/{k}"] = v.numpy()
    else:
        import jax

        trees = {"policy": agent.policy.state_dict.params, "value": agent.value.state_dict.params,
                 "popt": agent.policy_optimizer.state, "vopt": agent.value_optimizer.state,
                 "scaler": agent._state_preprocessor.params}
        for name, tree in trees.items():
            for p, leaf in jax.tree_util.tree_leaves_with_path(tree):
                out[f"{name}{jax.tree_util.keystr(p)}"] = np.asarray(leaf)
    np.savez(path, **out)


def main(backend, run_dir, timesteps, out, checkpoint=None):
    from skrl.utils import set_seed

    set_seed(7)
    offset = 0
    if checkpoint:
        offset = int(checkpoint.rstrip("/").split("_")[-1].split(".")[0])
    env = module("envs.wrappers", backend).wrap_env(ClockEnv(offset), wrapper="gymnasium", verbose=False)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    scheduler = module("resources.schedulers", backend).KLAdaptiveLR
    agent = make_ppo(backend, env, {
        "rollouts": 8, "learning_epochs": 2, "mini_batches": 2, "learning_rate": 3e-3,
        "learning_rate_scheduler": scheduler, "learning_rate_scheduler_kwargs": {"kl_threshold": 0.001},
        "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
        "entropy_loss_scale": 0.01,
        "experiment": {"directory": run_dir, "experiment_name": "run", "write_interval": 16, "checkpoint_interval": 32},
    })
    t = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    t.train()
    dump(backend, agent, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], *(sys.argv[5:6] or [None]))
