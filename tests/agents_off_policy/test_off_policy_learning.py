"""Off-policy agents learn: SAC solves Pendulum-v1 (return > -300) within 20,000 transitions (JAX); DQN and DDQN
improve on CartPole-v1 within 20,000 transitions on both backends (a random policy scores about 22)."""

import pytest
from builders import trainer
from off_policy_cases import make_agent, make_models

from skrl._cli import evaluate, make_env
from skrl.utils import set_seed


@pytest.fixture
def one_torch_thread():
    """Small networks: one intra-op thread is fastest, and is robust to a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train(backend, agent_name, task, cfg, memory_size, tmp_path, action_scale=1):
    set_seed(42)
    env = make_env(task, 4, backend, seed=42)
    models = make_models(backend, agent_name, env.observation_space, env.action_space, env.device, layers=(64, 64),
                         activations="relu", action_scale=action_scale)
    cfg = {**cfg, "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}}
    agent = make_agent(backend, agent_name, env, cfg, memory_size=memory_size, models=models)
    trainer(backend, env, agent, timesteps=5_000).train()  # 5,000 steps x 4 envs = 20,000 transitions
    return evaluate(agent, task, backend, episodes=10)


def test_sac_solves_pendulum_within_20k_transitions(tmp_path):
    cfg = {"batch_size": 256, "gradient_steps": 2, "random_timesteps": 250, "learning_starts": 250,
           "initial_entropy_value": 0.1}
    assert _train("jax", "SAC", "Pendulum-v1", cfg, 5_000, tmp_path, action_scale=2) > -300


@pytest.mark.parametrize("agent_name", ["DQN", "DDQN"])
def test_dqn_improves_on_cartpole_within_20k_transitions(backend, agent_name, tmp_path, one_torch_thread):
    cfg = {"batch_size": 128, "learning_starts": 250, "learning_rate": 5e-4, "update_interval": 2, "polyak": 0.05,
           "exploration": {"timesteps": 1000, "final_epsilon": 0.02}}
    assert _train(backend, agent_name, "CartPole-v1", cfg, 12_500, tmp_path) > 150
