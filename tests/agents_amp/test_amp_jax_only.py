"""JAX AMP specifics: the update is one jitted call compiled once (both array backends), the GAE on stored next values,
the discriminator's output layer found in creation order, and the discriminator loss against a NumPy computation."""

import numpy as np
import pytest
from amp_cases import amp_env, make_amp
from builders import trainer

jax = pytest.importorskip("jax")
jnp = jax.numpy


@pytest.mark.parametrize("array_backend", ["numpy", "jax"])
def test_update_is_one_jitted_call_compiled_once(array_backend, tmp_path):
    from skrl import config

    previous = config.jax.backend
    config.jax.backend = array_backend
    try:
        env = amp_env("jax", 3)
        cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 3, "amp_batch_size": 8,
               "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}}
        agent = make_amp("jax", env, cfg)
        trainer("jax", env, agent, 4 * 3).train()  # three updates
        assert agent._jitted["update"]._cache_size() == 1
        assert agent._jitted["next_values"]._cache_size() == 1
        assert len(agent.reply_buffer) == 3 * 4 * 3
        stored = agent.memory.get_tensor_by_name("next_values")
        assert isinstance(stored, jax.Array) == (array_backend == "jax")
        assert np.isfinite(np.asarray(stored)).all()
    finally:
        config.jax.backend = previous


def test_gae_with_stored_next_values():
    from skrl.jax.ppo_functions import gae

    rng = np.random.default_rng(0)
    T, N, gamma, lam = 5, 3, 0.9, 0.8
    rewards, values, next_values = (rng.normal(size=(T, N, 1)).astype(np.float32) for _ in range(3))
    dones = rng.uniform(size=(T, N, 1)) < 0.3
    expected, advantage = np.zeros_like(rewards), np.zeros((N, 1), np.float32)
    for i in reversed(range(T)):
        advantage = rewards[i] - values[i] + gamma * (next_values[i] + lam * (1 - dones[i]) * advantage)
        expected[i] = advantage
    returns, advantages = gae(jnp.asarray(rewards), jnp.asarray(dones), jnp.asarray(values), jnp.asarray(next_values),
                              gamma, lam, next_values_per_step=True)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(advantages, (expected - expected.mean()) / (expected.std() + 1e-8), rtol=1e-4, atol=1e-4)


def test_kernel_paths_follow_layer_creation_order():
    from skrl.jax.amp import kernel_paths

    params = {"params": {f"layers_{i}": {"kernel": np.zeros((2, 2)), "bias": np.zeros(2)} for i in (0, 2, 10, 12)}}
    params["params"]["conv"] = {"kernel": np.zeros((3, 3, 1, 1))}
    assert [path[1] for path in kernel_paths(params)] == ["layers_0", "layers_2", "layers_10", "layers_12"]


def test_discriminator_loss_matches_numpy(tmp_path):
    env = amp_env("jax", 2)
    cfg = {"rollouts": 2, "discriminator_loss_scale": 2.0, "discriminator_logit_regularization_scale": 0.3,
           "discriminator_gradient_penalty_scale": 0.7, "discriminator_weight_decay_scale": 0.2,
           "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}}
    agent = make_amp("jax", env, cfg)
    functions = agent.ppo_functions()
    params = agent.discriminator.state_dict.params
    rng = np.random.default_rng(1)
    agent_rows, replay_rows, motion_rows = (jnp.asarray(rng.normal(size=(6, 10)), jnp.float32) for _ in range(3))
    loss = functions.discriminator_loss(params, agent_rows, replay_rows, motion_rows)

    def logits(x):
        return np.asarray(agent.discriminator.act({"states": x}, role="discriminator", params=params)[0], np.float64)

    fake = np.concatenate([logits(agent_rows), logits(replay_rows)])
    real = logits(motion_rows)
    bce = 0.5 * (np.mean(np.log1p(np.exp(fake))) + np.mean(np.log1p(np.exp(-real))))
    kernels = [np.asarray(layer["kernel"], np.float64) for layer in params["params"]["net_container"].values()]
    epsilon, penalty = 1e-3, np.zeros(6)
    for j in range(10):  # central differences of the logits along each input
        step = np.zeros(10, np.float32)
        step[j] = epsilon
        slope = (logits(motion_rows + step) - logits(motion_rows - step))[:, 0] / (2 * epsilon)
        penalty += slope ** 2
    expected = 2.0 * (bce + 0.3 * np.sum(kernels[-1] ** 2) + 0.7 * penalty.mean() + 0.2 * sum(np.sum(k ** 2) for k in kernels))
    np.testing.assert_allclose(float(loss), expected, rtol=2e-3)


def test_jitted_trainer_refuses_amp(tmp_path):
    from skrl.jax.jitted_trainer import _check_agent

    env = amp_env("jax", 2)
    agent = make_amp("jax", env, {"rollouts": 2, "amp_batch_size": 4, "experiment": {
        "directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}})
    with pytest.raises(TypeError, match="AMP"):
        _check_agent(agent)
