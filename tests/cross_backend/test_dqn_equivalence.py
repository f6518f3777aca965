"""DQN and DDQN: the same weights and the same replay batches give the same update on torch and JAX."""

import sys
import os

import numpy as np
import pytest
from builders import wrapped_gym_env

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "agents_off_policy"))
from off_policy_cases import make_agent  # noqa: E402
from test_ppo_equivalence import torch_to_flax  # noqa: E402

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")

BATCH = 16


def _batches(steps: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (BATCH, 4)).astype(np.float32), rng.integers(0, 2, (BATCH, 1)),
             rng.normal(size=(BATCH, 1)).astype(np.float32), rng.uniform(-1, 1, (BATCH, 4)).astype(np.float32),
             rng.uniform(size=(BATCH, 1)) < 0.2, rng.uniform(size=(BATCH, 1)) < 0.1) for _ in range(steps)]


def _feed(agent, backend: str, batches: list) -> None:
    """Make the agent's memory hand out ``batches`` in order (dtypes as the agent stores them)."""
    queue = list(batches)

    def sample(names, batch_size, **kwargs):
        states, actions, rewards, next_states, terminated, truncated = queue.pop(0)
        arrays = (states, actions.astype(np.int64), rewards, next_states, terminated, truncated)
        if backend == "torch":
            arrays = tuple(torch.as_tensor(a) for a in arrays)
        return [list(arrays)]

    agent.memory.sample = sample


@pytest.mark.parametrize("agent_name", ["DQN", "DDQN"])
def test_same_weights_and_batches_same_update(tmp_path, agent_name):
    cfg = {"batch_size": BATCH, "gradient_steps": 3, "learning_starts": 0, "learning_rate": 1e-2, "polyak": 0.3,
           "target_update_interval": 1, "discount_factor": 0.9,
           "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}}
    agents = {}
    for backend in ("torch", "jax"):
        env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
        agents[backend] = make_agent(backend, agent_name, env, cfg=cfg)
        agents[backend].init(trainer_cfg={"timesteps": 10})
    torch_q = agents["torch"].models["q_network"]
    with torch.no_grad():  # a target unlike the online network, so that DDQN's choice and the blend both matter
        for parameter in agents["torch"].models["target_q_network"].parameters():
            parameter.mul_(-0.5)
    for role in ("q_network", "target_q_network"):
        model = agents["jax"].models[role]
        model.state_dict = model.state_dict.replace(params=torch_to_flax(agents["torch"].models[role].state_dict()))
    batches = _batches(6)
    for backend, agent in agents.items():
        _feed(agent, backend, batches)
        for timestep in (0, 1):
            agent._update(timestep, 10)
    for role in ("q_network", "target_q_network"):
        expected = torch_to_flax(agents["torch"].models[role].state_dict())
        actual = agents["jax"].models[role].state_dict.params
        flat_expected = dict(jax.tree_util.tree_leaves_with_path(expected))
        for path, value in jax.tree_util.tree_leaves_with_path(actual):
            np.testing.assert_allclose(np.asarray(value), flat_expected[path], rtol=2e-4, atol=2e-5,
                                       err_msg=f"{role} {jax.tree_util.keystr(path)}")
    assert not np.allclose(torch_q.state_dict()["net_container.0.weight"].numpy(),
                           agents["torch"].models["target_q_network"].state_dict()["net_container.0.weight"].numpy())
