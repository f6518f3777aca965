"""JAX PPO learns the same with both array backends: "numpy" (host arrays) and "jax" (device arrays written in place)."""

import numpy as np
import pytest
from builders import make_ppo, module, trainer, wrapped_gym_env

jax = pytest.importorskip("jax")


def _train(array_backend, directory):
    from skrl import config

    previous = config.jax.backend
    config.jax.backend = array_backend
    try:
        env = wrapped_gym_env("jax", "Pendulum-v1", num_envs=3, seed=1)
        scaler = module("resources.preprocessors", "jax").RunningStandardScaler
        agent = make_ppo("jax", env, {"rollouts": 8, "learning_epochs": 2, "mini_batches": 3, "state_preprocessor": scaler,
                                      "state_preprocessor_kwargs": {"size": env.observation_space},
                                      "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
                                      "experiment": {"directory": str(directory), "write_interval": 0,
                                                     "checkpoint_interval": 0}})
        trainer("jax", env, agent, timesteps=36).train()  # 4 updates, then 4 steps into the next rollout
        memory = {name: np.asarray(agent.memory.get_tensor_by_name(name)) for name in agent.memory.get_tensor_names()}
        return jax.device_get(agent.policy.state_dict.params), memory, agent.memory.memory_index
    finally:
        config.jax.backend = previous


def test_numpy_and_jax_array_backends_train_alike(tmp_path):
    host_params, host_memory, host_index = _train("numpy", tmp_path / "numpy")
    device_params, device_memory, device_index = _train("jax", tmp_path / "jax")
    assert host_index == device_index == 4
    for name, values in host_memory.items():
        np.testing.assert_allclose(device_memory[name], values, rtol=1e-5, atol=1e-5, err_msg=name)
    for (path, leaf), other in zip(jax.tree_util.tree_leaves_with_path(host_params), jax.tree_util.tree_leaves(device_params)):
        np.testing.assert_allclose(other, leaf, rtol=1e-5, atol=1e-6, err_msg=jax.tree_util.keystr(path))
