"""One process of a 2-process PPO run (launched by test_distributed.py through torchrun or skrl's JAX launcher).

    python distributed_worker.py BACKEND RUN_PARENT OUT_DIR

Each rank's env pays ``rank + 1`` per step, in episodes of 8 steps, so the logged rewards show whose episodes count.
After training, every rank dumps its parameters to ``OUT_DIR/params_<rank>.npz``.
"""

import os
import sys

import gymnasium
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from builders import make_ppo, module, to_numpy, trainer  # noqa: E402

EPISODE = 8


class RankRewardEnv(gymnasium.Env):
    def __init__(self, reward):
        self.observation_space = gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Box(-1, 1, (1,), dtype=np.float32)
        self.reward, self.t = reward, 0
        self._rng = np.random.default_rng(int(reward))

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._rng.uniform(-1, 1, 3).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        return self._rng.uniform(-1, 1, 3).astype(np.float32), self.reward, False, self.t >= EPISODE, {}


def main(backend, run_parent, out_dir):
    from skrl import config
    from skrl.utils import set_seed

    rank = getattr(config, backend).rank
    set_seed(7)  # the rank is added: each process explores differently
    env = gymnasium.vector.SyncVectorEnv([lambda: RankRewardEnv(float(rank + 1)) for _ in range(2)])
    env = module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)
    agent = make_ppo(backend, env, {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "experiment": {
        "directory": run_parent, "experiment_name": "run", "write_interval": 16, "checkpoint_interval": 32}})
    trainer(backend, env, agent, 64).train()
    params = {}
    for role in ("policy", "value"):
        model = agent.models[role]
        if backend == "torch":
            params.update({f"{role}/{k}": to_numpy(v) for k, v in model.state_dict().items()})
        else:
            import jax

            leaves = jax.tree_util.tree_leaves_with_path(model.state_dict.params)
            params.update({f"{role}/{jax.tree_util.keystr(path)}": np.asarray(leaf) for path, leaf in leaves})
    np.savez(os.path.join(out_dir, f"params_{rank}.npz"), **params)


if __name__ == "__main__":
    main(*sys.argv[1:4])
