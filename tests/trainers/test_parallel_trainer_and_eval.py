"""``ParallelTrainer`` (torch) and what evaluation must not do: write to memory or write checkpoints (both backends)."""

import os
import threading

import builders
import numpy as np
import pytest
import torch

from skrl.common import background_writer
from skrl.trainers.torch import ParallelTrainer, SequentialTrainer, StepTrainer
from skrl.trainers.torch.parallel import PARALLEL_TRAINER_DEFAULT_CONFIG
from skrl.trainers.torch.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG

CFG = {"timesteps": 4, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


class CountingEnv:
    """Vectorized env whose observations are the step count; rewards are the env index."""

    num_agents = 1

    def __init__(self, num_envs):
        self.num_envs, self.t, self.actions = num_envs, 0, []

    def _obs(self):
        return torch.full((self.num_envs, 2), float(self.t))

    def reset(self):
        return self._obs(), {}

    def step(self, actions):
        self.actions.append(actions.clone())
        self.t += 1
        flags = torch.zeros(self.num_envs, 1, dtype=torch.bool)
        return self._obs(), torch.arange(self.num_envs, dtype=torch.float32).view(-1, 1), flags, flags, {}

    def close(self):
        pass


class ThreadRecordingAgent:
    """Records, per call, the thread it ran in and whether gradients were enabled."""

    def __init__(self, name):
        self.name, self.calls, self.rewards = name, [], []

    def _note(self, call):
        self.calls.append((call, threading.current_thread().name, torch.is_grad_enabled()))

    def init(self, trainer_cfg=None):
        pass

    def set_running_mode(self, mode):
        pass

    def pre_interaction(self, *, timestep, timesteps):
        self._note("pre")

    def act(self, states, *, timestep, timesteps):
        self._note("act")
        actions = states[:, :1] + (100 if self.name == "b" else 0)
        return actions, None, {"mean_actions": actions}

    def record_transition(self, *, rewards, **kwargs):
        self._note("record")
        self.rewards.append(rewards.clone())

    def post_interaction(self, *, timestep, timesteps):
        self._note("post")


def test_parallel_trainer_config_and_constructor():
    assert PARALLEL_TRAINER_DEFAULT_CONFIG == SEQUENTIAL_TRAINER_DEFAULT_CONFIG
    env = CountingEnv(4)
    agents = [ThreadRecordingAgent("a"), ThreadRecordingAgent("b")]
    trainer = ParallelTrainer(env, agents, [1, 3], dict(CFG))  # skrl 1.4.3 positional order
    assert trainer.agents_scope == [(0, 1), (1, 4)] and trainer.timesteps == 4


def test_parallel_agents_run_in_threads_with_the_sequential_results():
    env = CountingEnv(4)
    agents = [ThreadRecordingAgent("a"), ThreadRecordingAgent("b")]
    ParallelTrainer(env=env, agents=agents, agents_scope=[1, 3], cfg=CFG).train()
    for agent in agents:
        threads = {thread for _, thread, _ in agent.calls}
        assert all(thread.startswith("skrl-agent") for thread in threads)
        grad_modes = {call: enabled for call, _, enabled in agent.calls}
        assert grad_modes == {"pre": True, "act": False, "record": False, "post": True}
        assert [call for call, _, _ in agent.calls[:4]] == ["pre", "act", "record", "post"]
    assert [a.view(-1).tolist() for a in env.actions] == [[t, 100 + t, 100 + t, 100 + t] for t in range(4)]
    assert agents[1].rewards[0].view(-1).tolist() == [1.0, 2.0, 3.0]


def test_parallel_trainer_errors_reach_the_caller():
    class FailingAgent(ThreadRecordingAgent):
        def act(self, states, **kwargs):
            raise RuntimeError("agent b failed")

    agents = [ThreadRecordingAgent("a"), FailingAgent("b")]
    with pytest.raises(RuntimeError, match="agent b failed"):
        ParallelTrainer(env=CountingEnv(2), agents=agents, cfg=CFG).train()


def test_parallel_trainer_with_one_agent_runs_in_the_main_thread():
    agent = ThreadRecordingAgent("a")
    ParallelTrainer(env=CountingEnv(2), agents=agent, cfg=CFG).eval()
    assert {thread for _, thread, _ in agent.calls} == {threading.current_thread().name}


def scoped_ppo(env, num_envs, tmp_path):
    from skrl.agents.torch.ppo import PPO
    from skrl.memories.torch import RandomMemory

    models = builders.ppo_models("torch", env.observation_space, env.action_space, env.device)
    cfg = {"rollouts": 4, "learning_epochs": 1, "mini_batches": 1, "experiment": {"directory": str(tmp_path)}}
    return PPO(models=models, memory=RandomMemory(memory_size=4, num_envs=num_envs), observation_space=env.observation_space,
               action_space=env.action_space, device=env.device, cfg=cfg)


def test_parallel_ppo_agents_learn(tmp_path):
    env = builders.wrapped_random_env("torch", num_envs=4)
    agents = [scoped_ppo(env, 2, tmp_path) for _ in range(2)]
    before = [{k: v.clone() for k, v in agent.models["policy"].state_dict().items()} for agent in agents]
    ParallelTrainer(env=env, agents=agents, agents_scope=[2, 2], cfg=dict(CFG, timesteps=8)).train()
    for agent, state in zip(agents, before):
        changed = any(not torch.equal(v, agent.models["policy"].state_dict()[k]) for k, v in state.items())
        assert changed, "each agent updated its policy"


def memory_snapshot(memory):
    return (memory.memory_index, memory.env_index, memory.filled,
            {name: builders.to_numpy(memory.get_tensor_by_name(name)).copy() for name in memory.get_tensor_names()})


def checkpoint_files(agent):
    background_writer.wait()
    directory = os.path.join(agent.experiment_dir, "checkpoints")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


@pytest.mark.parametrize("trainer_name", ["SequentialTrainer", "StepTrainer"])
def test_eval_writes_neither_memory_nor_checkpoints(backend, tmp_path, trainer_name):
    env = builders.wrapped_random_env(backend, num_envs=2)
    cfg = {"rollouts": 4, "learning_epochs": 1, "mini_batches": 1,
           "experiment": {"directory": str(tmp_path), "checkpoint_interval": 3, "write_interval": 3}}
    agent = builders.make_ppo(backend, env, cfg)
    trainers = builders.module("trainers", backend)
    trainer = getattr(trainers, trainer_name)(env=env, agents=agent, cfg=dict(CFG, timesteps=6))
    train, evaluate = (trainer.train, trainer.eval) if trainer_name == "SequentialTrainer" else (
        lambda: [trainer.train() for _ in range(6)], lambda: [trainer.eval() for _ in range(6)])
    train()
    files, memory = checkpoint_files(agent), memory_snapshot(agent.memory)
    assert files, "training wrote checkpoints"
    evaluate()
    if trainer_name == "StepTrainer":
        trainer.close()
    assert checkpoint_files(agent) == files
    index, env_index, filled, tensors = memory_snapshot(agent.memory)
    assert (index, env_index, filled) == memory[:3]
    for name, values in tensors.items():
        np.testing.assert_array_equal(values, memory[3][name])


def test_eval_from_scratch_leaves_memory_empty(backend, tmp_path):
    env = builders.wrapped_random_env(backend, num_envs=2)
    agent = builders.make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "checkpoint_interval": 2}})
    builders.trainer(backend, env, agent, timesteps=5).eval()
    assert len(agent.memory) == 0 and checkpoint_files(agent) == []


def test_sequential_and_parallel_trainers_agree_on_actions():
    outputs = []
    for cls in (SequentialTrainer, ParallelTrainer):
        env = CountingEnv(3)
        cls(env=env, agents=[ThreadRecordingAgent("a"), ThreadRecordingAgent("b")], agents_scope=[2, 1], cfg=CFG).eval()
        outputs.append(torch.stack(env.actions))
    assert torch.equal(*outputs)


def test_step_trainer_drives_a_real_agent(tmp_path):
    env = builders.wrapped_random_env("torch", num_envs=2)
    agent = builders.make_ppo("torch", env, {"rollouts": 2, "learning_epochs": 1, "mini_batches": 1,
                                             "experiment": {"directory": str(tmp_path)}})
    trainer = StepTrainer(env=env, agents=agent, cfg=dict(CFG, timesteps=4))
    for _ in range(4):
        next_states, rewards, terminated, truncated, infos = trainer.train()
    trainer.close()
    assert tuple(next_states.shape) == (2, 5) and len(agent.memory) == 4
