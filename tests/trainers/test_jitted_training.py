"""The fully jitted path learns as the host path does: CartPole-v1 (gymnax), 8 envs, under 100,000 transitions."""

import pytest

from skrl._cli import build_agent, evaluate
from skrl.utils import set_seed

gymnax = pytest.importorskip("gymnax")


def test_jitted_ppo_solves_cartpole_within_100k_transitions(tmp_path):
    from skrl.envs.wrappers.jax import wrap_env
    from skrl.trainers.jax import JittedTrainer

    set_seed(42)
    env = wrap_env(gymnax.make("CartPole-v1")[0], wrapper="gymnax", num_envs=8, seed=42)
    agent = build_agent(env, "jax", {"experiment": {"directory": str(tmp_path)}})  # the foundation's PPO job
    JittedTrainer(env=env, agents=agent, cfg={"timesteps": 12_416, "disable_progressbar": True}).train()  # 97 updates
    assert evaluate(agent, "CartPole-v1", "jax", episodes=10) >= 475  # gymnasium's CartPole, deterministic policy
