"""PPO learns: CartPole-v1, 8 envs, at most 100,000 transitions, mean deterministic return >= 475, both backends."""

from builders import trainer

from skrl._cli import build_agent, evaluate, make_env
from skrl.utils import set_seed


def test_ppo_solves_cartpole_within_100k_transitions(backend, tmp_path):
    set_seed(42)
    env = make_env("CartPole-v1", 8, backend, seed=42)
    agent = build_agent(env, backend, {"experiment": {"directory": str(tmp_path)}})
    trainer(backend, env, agent, timesteps=12_500).train()  # 12,500 steps x 8 envs = 100,000 transitions
    assert evaluate(agent, "CartPole-v1", backend, episodes=10) >= 475
