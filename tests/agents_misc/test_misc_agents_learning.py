"""Learning: Q-learning and SARSA solve FrozenLake-v1 (non-slippery), TRPO improves on CartPole-v1, both backends."""

import numpy as np
import pytest
from builders import module, to_numpy, trainer
from misc_agents import make_agent, toy_text_env

from skrl._cli import evaluate
from skrl.utils import set_seed

CARTPOLE_NETWORK = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]


def _success_rate(agent, backend, episodes=32):
    """Fraction of ``episodes`` FrozenLake-v1 (non-slippery) episodes in which the agent's policy reaches the goal."""
    env = toy_text_env(backend, "FrozenLake-v1", num_envs=episodes, seed=123, is_slippery=False)
    states, _ = env.reset()
    active, wins = np.ones(episodes, dtype=bool), np.zeros(episodes)
    while active.any():
        states, rewards, terminated, truncated, _ = env.step(agent.act(states, 10**6, 10**6)[0])
        wins += to_numpy(rewards).reshape(-1) * active
        active &= ~(to_numpy(terminated).reshape(-1) | to_numpy(truncated).reshape(-1))
    return wins.mean()


@pytest.mark.parametrize("name", ["q_learning", "sarsa"])
def test_tabular_agents_solve_frozen_lake(backend, name, tmp_path):
    """The epsilon-greedy (0.1) policy reaches the goal in most episodes (a random one in about 1.5%)."""
    set_seed(0)
    env = toy_text_env(backend, "FrozenLake-v1", num_envs=4, seed=0, is_slippery=False)
    agent = make_agent(backend, name, env, {"discount_factor": 0.9, "learning_rate": 0.5,
                                           "experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                          "checkpoint_interval": 0}}, epsilon=0.1, shared_table=True)
    assert _success_rate(agent, backend) < 0.1
    trainer(backend, env, agent, 1500).train()
    assert _success_rate(agent, backend) >= 0.6


def test_trpo_improves_on_cartpole(backend, tmp_path):
    set_seed(42)
    env = toy_text_env(backend, "CartPole-v1", num_envs=4, seed=42)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    agent = make_agent(backend, "trpo", env, {
        "rollouts": 64, "learning_epochs": 10, "mini_batches": 4, "value_learning_rate": 3e-3,
        "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
        "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}},
        network=CARTPOLE_NETWORK)
    before = evaluate(agent, "CartPole-v1", backend)
    trainer(backend, env, agent, 5000).train()  # 20,000 transitions
    after = evaluate(agent, "CartPole-v1", backend)
    assert after >= 200 and after > before + 150, (before, after)
