"""Pieces of the jitted JAX PPO update checked against hand-made tables and a second implementation (torch)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")


@pytest.mark.parametrize("total, mini_batches, expected", [
    (1024, 4, [(0, 4, 256)]),
    (10, 3, [(0, 1, 4), (4, 2, 3)]),
    (7, 7, [(0, 7, 1)]),
    (3, 5, [(0, 3, 1)]),  # more mini-batches than rows: one row each
    (9, 1, [(0, 1, 9)]),
])
def test_minibatch_groups(total, mini_batches, expected):
    from skrl.jax.ppo_functions import minibatch_groups

    assert minibatch_groups(total, mini_batches) == expected


def test_gae_agrees_with_the_torch_implementation():
    from skrl.jax.ppo_functions import gae
    from skrl.torch.ppo import compute_gae

    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(2, 17, 3, 1)).astype(np.float32)
    dones = rng.uniform(size=(17, 3, 1)) < 0.2
    last = rng.normal(size=(3, 1)).astype(np.float32)
    expected = compute_gae(*map(torch.as_tensor, (rewards, dones, values, last)), 0.97, 0.9)
    returns, advantages = gae(rewards, dones, values, last, 0.97, 0.9)
    np.testing.assert_allclose(np.asarray(returns), expected[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(advantages), expected[1].numpy(), rtol=1e-4, atol=1e-5)


def test_flat_parameters_give_the_same_adam_step_and_restore_the_layout():
    import optax

    from skrl.jax.ppo_functions import FlatParameters
    from skrl.resources.optimizers.jax.adam import Optimizer

    rng = np.random.default_rng(1)
    params = {"params": {"a": {"kernel": rng.normal(size=(4, 3)), "bias": rng.normal(size=(3,))}, "b": rng.normal(size=(2,))}}
    params = jax.tree_util.tree_map(lambda x: jax.numpy.asarray(x, jax.numpy.float32), params)
    grads = jax.tree_util.tree_map(lambda x: x * 0.5 + 1.0, params)
    transformation = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(1e-2))
    optimizer = Optimizer(transformation=transformation, state=transformation.init(params), base_lr=1e-2)
    expected_params, expected_optimizer = optimizer.apply_gradients(grads, params)
    flat = FlatParameters(params, optimizer)
    stepped, flat_optimizer = flat.optimizer.apply_gradients(jax.flatten_util.ravel_pytree(grads)[0], flat.flat)
    restored = flat.restore_optimizer(flat_optimizer)
    assert jax.tree_util.tree_structure(restored.state) == jax.tree_util.tree_structure(expected_optimizer.state)
    for got, want in zip(jax.tree_util.tree_leaves((flat.unravel(stepped), restored.state)),
                         jax.tree_util.tree_leaves((expected_params, expected_optimizer.state))):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-7)


def test_update_over_processes_is_the_jitted_update_on_one_process(tmp_path):
    """``over_processes`` on a one-process mesh (``pmean`` is the identity): the same update as the plain jit, with
    preprocessors, KL early stop and KL schedule; the arrays come back process-local with their shapes."""
    import dataclasses

    from builders import make_ppo, module, wrapped_random_env

    from skrl.jax import distributed
    from skrl.jax.ppo_functions import ROLLOUT_NAMES, PPOTrainState

    env = wrapped_random_env("jax", num_envs=3)
    scaler = module("resources.preprocessors", "jax").RunningStandardScaler
    agent = make_ppo("jax", env, {"rollouts": 8, "learning_epochs": 3, "mini_batches": 3, "kl_threshold": 0.05,
                                  "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space},
                                  "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
                                  "learning_rate_scheduler": module("resources.schedulers", "jax").KLAdaptiveLR,
                                  "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}})
    agent.init(trainer_cfg={"timesteps": 10})
    rng = np.random.default_rng(3)
    rollout = {name: rng.normal(size=(8, 3, 5 if name == "states" else 3 if name == "actions" else 1)).astype(np.float32)
               for name in ROLLOUT_NAMES}
    rollout["terminated"], rollout["truncated"] = rng.uniform(size=(2, 8, 3, 1)) < 0.1
    args = (agent.train_state(), rollout, rng.normal(size=(3, 5)).astype(np.float32), np.float32(1e-3))
    functions = agent.ppo_functions()
    assert functions.axis_name is None
    expected = jax.jit(functions.update)(*args)
    local = PPOTrainState.process_local()
    mapped = distributed.over_processes(dataclasses.replace(functions, axis_name=distributed.AXIS_NAME).update,
                                        (local, True, True, False), (local, True, True))
    got = mapped(*args)
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(expected)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
