"""One run of ``learning_misc.py``'s entry on skrl 1.4.3 (torch), in the Python of an environment that has it.

    /path/to/venv-skrl143/bin/python benchmarks/_skrl143_misc.py JOB_JSON

Prints ``[return, transitions/s, transitions]`` (JSON) as its last line. The job holds the entry, the agent
settings, the network and the seed, so both libraries run the same configuration.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

import numpy as np
from learning_misc import Entry, greedy_return


def _env(entry: Entry, seed: int) -> Any:
    import gymnasium

    from skrl.envs.wrappers.torch import wrap_env

    env = gymnasium.make_vec(entry.task, num_envs=entry.num_envs, vectorization_mode="sync", **entry.task_kwargs)
    if isinstance(env.single_action_space, gymnasium.spaces.Discrete):  # 1.4.3 hands them as (num_envs, 1)
        env = gymnasium.wrappers.vector.TransformAction(env, lambda actions: np.asarray(actions).reshape(-1))
    env.reset(seed=seed)
    return wrap_env(env, wrapper="gymnasium")


def _tabular_policy(env: Any, epsilon: float) -> Any:
    import torch

    from skrl.models.torch import Model, TabularMixin

    class Policy(TabularMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, env.observation_space, env.action_space, env.device)
            TabularMixin.__init__(self, env.num_envs)
            self.q_table = torch.ones((env.num_envs, self.num_observations, self.num_actions), device=self.device)

        def compute(self, inputs: dict, role: str) -> tuple:
            states = inputs["states"].reshape(-1).long()
            rows = torch.arange(states.shape[0], device=self.device) % self.num_envs
            greedy = self.q_table[rows, states].argmax(-1, keepdim=True)
            explore = torch.rand(greedy.shape, device=self.device) < epsilon
            return torch.where(explore, torch.randint_like(greedy, self.num_actions), greedy), {}

    return Policy()


def _agent(entry: Entry, env: Any, job: dict, directory: str) -> Any:
    import importlib

    from skrl.memories.torch import RandomMemory
    from skrl.utils.model_instantiators.torch import categorical_model, deterministic_model, gaussian_model

    package = importlib.import_module(f"skrl.agents.torch.{entry.package}")
    cfg = {**getattr(package, f"{entry.agent}_DEFAULT_CONFIG"), **job["settings"]}
    cfg["experiment"] = {**cfg["experiment"], "directory": directory, "checkpoint_interval": 0}
    memory = None
    if entry.agent in ("Q_LEARNING", "SARSA"):
        models = {"policy": _tabular_policy(env, job["epsilon"])}
    else:
        spaces = (env.observation_space, env.action_space, env.device)
        if entry.task == "CartPole-v1":
            models = {"policy": categorical_model(*spaces, network=job["network"], output="ACTIONS")}
        else:
            models = {"policy": gaussian_model(*spaces, network=job["network"], output="2 * tanh(ACTIONS)")}
        if entry.agent == "TRPO":
            from skrl.resources.preprocessors.torch import RunningStandardScaler

            models["value"] = deterministic_model(*spaces, network=job["network"], output="ONE")
            cfg.update({"state_preprocessor": RunningStandardScaler,
                        "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device}})
        for role, model in models.items():
            model.init_state_dict(role)
        memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device)
    return getattr(package, entry.agent)(models=models, memory=memory, observation_space=env.observation_space,
                                         action_space=env.action_space, device=env.device, cfg=cfg)


def _evaluate(agent: Any, entry: Entry) -> float:
    """Mean return of the most likely (or mean) action over 10 fresh episodes (greedy Q-table for tabular agents)."""
    import gymnasium
    import torch

    if entry.agent in ("Q_LEARNING", "SARSA"):
        return greedy_return(agent.policy.table().cpu().numpy(), entry)
    env = gymnasium.make(entry.task, **entry.task_kwargs)
    returns = []
    for episode in range(10):
        state, _ = env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                states = torch.as_tensor(state, dtype=torch.float32).reshape(1, -1)
                outputs = agent.policy.act({"states": states}, role="policy")[2]
            action = int(outputs["net_output"].argmax()) if "net_output" in outputs else outputs["mean_actions"][0].numpy()
            state, reward, terminated, truncated, _ = env.step(action)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def main(job: dict) -> None:
    import torch

    from skrl.trainers.torch import SequentialTrainer
    from skrl.utils import set_seed

    torch.set_num_threads(job["torch_threads"])
    entry = Entry(**job["entry"])
    set_seed(job["seed"])
    env = _env(entry, job["seed"])
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        agent = _agent(entry, env, job, directory)
        trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": job["timesteps"], "headless": True,
                                                                "disable_progressbar": True,
                                                                "close_environment_at_exit": False})
        start = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - start
        agent.set_running_mode("eval")
        score = _evaluate(agent, entry)
    transitions = job["timesteps"] * entry.num_envs
    print(json.dumps([score, transitions / elapsed, transitions]))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
