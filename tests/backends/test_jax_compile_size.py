"""The JAX PPO programs do not grow with the rollout length: no Python loop over steps is unrolled into them.

Compile time follows the size of the program XLA gets, so equal programs for 16 and 1024 rollouts mean
compile times independent of the rollout length (the issue's "within 2x" holds by construction).
"""

import numpy as np
import pytest
from builders import make_ppo, module, wrapped_gym_env

jax = pytest.importorskip("jax")


def _equations(jaxpr) -> int:
    """Equations of ``jaxpr`` and, recursively, of every sub-program (scan/cond/while bodies, nested jits)."""
    total = 0
    for equation in jaxpr.eqns:
        total += 1
        for param in equation.params.values():
            for value in param if isinstance(param, (tuple, list)) else (param,):
                inner = value if hasattr(value, "eqns") else getattr(value, "jaxpr", None)
                if hasattr(inner, "eqns"):
                    total += _equations(inner)
    return total


def _agent(tmp_path, rollouts, num_envs=2):
    env = wrapped_gym_env("jax", "CartPole-v1", num_envs=num_envs)
    scaler = module("resources.preprocessors", "jax").RunningStandardScaler
    schedule = module("resources.schedulers", "jax").KLAdaptiveLR
    agent = make_ppo("jax", env, {"rollouts": rollouts, "learning_epochs": 5, "mini_batches": 4, "kl_threshold": 0.05,
                                  "state_preprocessor": scaler, "state_preprocessor_kwargs": {"size": env.observation_space},
                                  "value_preprocessor": scaler, "value_preprocessor_kwargs": {"size": 1},
                                  "learning_rate_scheduler": schedule, "entropy_loss_scale": 0.01,
                                  "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}})
    agent.init(trainer_cfg={"timesteps": 10})
    return env, agent


def _update_program(tmp_path, rollouts):
    env, agent = _agent(tmp_path / str(rollouts), rollouts)
    n = env.num_envs
    column = lambda dtype: jax.ShapeDtypeStruct((rollouts, n, 1), dtype)  # noqa: E731
    rollout = {"states": jax.ShapeDtypeStruct((rollouts, n, 4), np.float32), "actions": column(np.int32),
               "rewards": column(np.float32), "terminated": column(np.bool_), "truncated": column(np.bool_),
               "log_prob": column(np.float32), "values": column(np.float32)}
    args = (agent.train_state(), rollout, jax.ShapeDtypeStruct((n, 4), np.float32), np.float32(1e-3))
    update = agent.ppo_functions().update
    lowered = jax.jit(update).lower(*args).as_text()
    return _equations(jax.make_jaxpr(update)(*args).jaxpr), lowered.count(" = ")


def test_update_program_is_the_same_for_16_and_1024_rollouts(tmp_path):
    short, long = _update_program(tmp_path, 16), _update_program(tmp_path, 1024)
    assert short == long
    assert short[0] > 100  # the whole update (all epochs and mini-batches) is in it


def test_jitted_trainer_chunk_is_the_same_for_16_and_1024_rollouts(tmp_path):
    pytest.importorskip("gymnax")
    import gymnax

    from skrl.envs.wrappers.jax import wrap_env
    from skrl.jax.jitted_trainer import JittedLoop
    from skrl.jax.native_envs import functional_env

    counts = []
    for rollouts in (16, 1024):
        env = wrap_env(gymnax.make("CartPole-v1")[0], wrapper="gymnax", num_envs=2, seed=0)
        agent = make_ppo("jax", env, {"rollouts": rollouts, "learning_epochs": 2, "mini_batches": 2, "experiment": {
            "directory": str(tmp_path / str(rollouts)), "write_interval": 0, "checkpoint_interval": 0}})
        agent.init(trainer_cfg={"timesteps": 10})
        functions = functional_env(env)
        loop = JittedLoop(agent, functions, 10**6, training=True, stochastic=True)
        carry = loop.initial_carry(agent)
        counts.append(_equations(jax.make_jaxpr(loop._chunk)(carry, np.int32(1), np.int32(0)).jaxpr))
    assert counts[0] == counts[1]


def test_gaussian_ppo_compiles_act_and_update_once(tmp_path):
    """A Gaussian policy's log-std made from a Python float is weakly typed; the update returns it strongly typed.
    The agent commits its models' parameters strongly typed up front, so nothing compiles again after the first
    update (each recompilation of the update costs about a second)."""
    env = module("envs.wrappers", "jax").wrap_env(__import__("gymnasium").make_vec("Pendulum-v1", num_envs=2),
                                                 wrapper="gymnasium", verbose=False)
    agent = make_ppo("jax", env, {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2,
                                  "experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                 "checkpoint_interval": 0}})
    from builders import trainer

    trainer("jax", env, agent, 4 * 3).train()
    assert agent._jitted["update"]._cache_size() == 1
    assert agent._jitted["sample"]._cache_size() == 1
