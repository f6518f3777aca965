"""One process of a 2-process run (launched by test_distributed.py through torchrun or skrl's JAX launcher).

    python distributed_worker.py BACKEND RUN_PARENT OUT_DIR [AGENT]

AGENT is PPO (default), TRPO or an off-policy agent (DDPG, TD3, SAC, DQN, DDQN: discrete actions). Each rank's env pays ``rank + 1`` per step, in episodes of 8 steps, so the
logged rewards show whose episodes count (and the ranks' gradients differ). After training, every rank dumps the
parameters of every model (targets included), SAC's log entropy coefficient and its number of gradient steps to
``OUT_DIR/params_<rank>.npz``.
"""

import importlib
import os
import sys

import gymnasium
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "agents_off_policy"))
from builders import make_ppo, module, ppo_models, to_numpy, trainer  # noqa: E402

EPISODE = 8


class RankRewardEnv(gymnasium.Env):
    def __init__(self, reward, discrete=False):
        self.observation_space = gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32)
        self.action_space = gymnasium.spaces.Discrete(3) if discrete else gymnasium.spaces.Box(-1, 1, (1,), np.float32)
        self.reward, self.t = reward, 0
        self._rng = np.random.default_rng(int(reward))

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._rng.uniform(-1, 1, 3).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        return self._rng.uniform(-1, 1, 3).astype(np.float32), self.reward, False, self.t >= EPISODE, {}


def make_agent(backend, name, env, run_parent):
    if name == "PPO":
        return make_ppo(backend, env, {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "experiment": {
            "directory": run_parent, "experiment_name": "run", "write_interval": 16, "checkpoint_interval": 32}})
    experiment = {"directory": run_parent, "experiment_name": "run", "write_interval": 0, "checkpoint_interval": 0}
    if name == "TRPO":
        trpo = importlib.import_module(f"skrl.agents.{backend}.trpo")
        models = ppo_models(backend, env.observation_space, env.action_space, env.device)
        memory = module("memories", backend).RandomMemory(memory_size=16, num_envs=env.num_envs, device=env.device)
        return trpo.TRPO(models=models, memory=memory, observation_space=env.observation_space,
                         action_space=env.action_space, device=env.device,
                         cfg={"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "experiment": experiment})
    from off_policy_cases import make_agent as make_off_policy

    return make_off_policy(backend, name, env, {"batch_size": 16, "learning_starts": 16, "gradient_steps": 2,
                                                "experiment": experiment}, memory_size=64)


def model_params(backend, agent):
    params = {}
    for role, model in agent.models.items():
        if backend == "torch":
            params.update({f"{role}/{k}": to_numpy(v) for k, v in model.state_dict().items()})
        else:
            import jax

            leaves = jax.tree_util.tree_leaves_with_path(model.state_dict.params)
            params.update({f"{role}/{jax.tree_util.keystr(path)}": np.asarray(leaf) for path, leaf in leaves})
    if hasattr(agent, "log_entropy_coefficient"):  # SAC's learned entropy coefficient
        value = agent.log_entropy_coefficient
        params["log_entropy_coefficient"] = to_numpy(value if backend == "torch" else value.value)
    return params


def main(backend, run_parent, out_dir, name="PPO"):
    from skrl import config
    from skrl.utils import set_seed

    rank = getattr(config, backend).rank
    set_seed(7)  # the rank is added: each process explores differently
    discrete = name in ("DQN", "DDQN")
    env = gymnasium.vector.SyncVectorEnv([lambda: RankRewardEnv(float(rank + 1), discrete) for _ in range(2)])
    env = module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)
    agent = make_agent(backend, name, env, run_parent)
    trainer(backend, env, agent, 64).train()
    params = model_params(backend, agent)
    params["gradient_steps"] = np.asarray(getattr(agent, "_gradient_step_count", -1))
    np.savez(os.path.join(out_dir, f"params_{rank}.npz"), **params)


if __name__ == "__main__":
    main(*sys.argv[1:5])
