"""Brax and gymnax wrappers (functional JAX envs), from torch and JAX agents.

Brax is too heavy to install for the tests (it pulls MuJoCo), so a small fake with Brax's functional API is
used; gymnax is tested with a fake of its API and, when installed (``pip install skrl[gymnax]``), with its
real CartPole and Pendulum.
"""

import importlib
import importlib.util
from typing import NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from skrl import config

FLAVOURS = [("torch", "numpy"), ("jax", "numpy"), ("jax", "jax")]  # backend, JAX array backend
HAS_GYMNAX = importlib.util.find_spec("gymnax") is not None


@pytest.fixture(params=FLAVOURS, ids=["torch", "jax-numpy", "jax-jax"])
def flavour(request, monkeypatch):
    monkeypatch.setattr(config.jax, "backend", request.param[1])
    return request.param


def wrappers(backend):
    return importlib.import_module(f"skrl.envs.wrappers.{backend}")


def as_numpy(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def agent_actions(backend, array):
    return torch.as_tensor(array) if backend == "torch" else np.asarray(array)


def assert_backend_array(flavour, x, shape, dtype):
    backend, array_backend = flavour
    expected_type = torch.Tensor if backend == "torch" else (jax.Array if array_backend == "jax" else np.ndarray)
    assert isinstance(x, expected_type) and tuple(x.shape) == shape
    assert str(x.dtype).replace("torch.", "") == dtype


# ---- gymnax ----------------------------------------------------------------------------------------------------


class Discrete(NamedTuple):
    n: int


class Box(NamedTuple):
    low: float
    high: float
    shape: tuple
    dtype: object


class CounterParams(NamedTuple):
    max_steps_in_episode: int = 4


class CounterState(NamedTuple):
    time: jax.Array
    x: jax.Array


class CounterEnv:
    """gymnax-like (the >= 1.0 API): ``x += action`` each step; terminates when ``x`` reaches 2, truncates at 4
    steps; ``step`` resets finished episodes."""

    default_params = CounterParams()

    def reset(self, key, params):
        state = CounterState(time=jnp.array(0), x=jnp.array(0.0))
        return self._obs(state), state

    def step(self, key, state, action, params):
        state = CounterState(time=state.time + 1, x=state.x + action)
        terminated, truncated = state.x >= 2, state.time >= params.max_steps_in_episode
        reset_obs, reset_state = self.reset(key, params)
        done = terminated | truncated
        next_state = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_state, state)
        obs = jnp.where(done, reset_obs, self._obs(state))
        return obs, next_state, action.astype(jnp.float32), terminated, truncated, {}

    def _obs(self, state):
        return jnp.stack([state.x, state.time.astype(jnp.float32)])

    def observation_space(self, params):
        return Box(-10.0, 10.0, (2,), jnp.float32)

    def action_space(self, params):
        return Discrete(2)


class LegacyCounterEnv(CounterEnv):
    """gymnax < 1.0 API: ``step`` returns one ``done`` flag."""

    def step(self, key, state, action, params):
        obs, state, reward, terminated, truncated, info = super().step(key, state, action, params)
        return obs, state, reward, terminated | truncated, info


CounterEnv.__module__ = "gymnax.environments.environment"


def test_gymnax_detection_spaces_and_flags(flavour):
    backend = flavour[0]
    wrapper = wrappers(backend).wrap_env(CounterEnv(), verbose=False, num_envs=2, seed=0)
    assert type(wrapper).__name__ == "GymnaxWrapper" and wrapper.num_envs == 2
    assert wrapper.observation_space == gymnasium.spaces.Box(-10, 10, (2,), np.float32)
    assert wrapper.action_space == gymnasium.spaces.Discrete(2)
    observations, info = wrapper.reset()
    assert_backend_array(flavour, observations, (2, 2), "float32") and info == {}
    steps = []
    for _ in range(4):  # env 0 always acts 1 (terminates at step 2), env 1 acts 0 (truncates at step 4)
        observations, rewards, terminated, truncated, _ = wrapper.step(agent_actions(backend, [[1], [0]]))
        steps.append((as_numpy(observations).tolist(), as_numpy(rewards).ravel().tolist(),
                      as_numpy(terminated).ravel().tolist(), as_numpy(truncated).ravel().tolist()))
    assert_backend_array(flavour, rewards, (2, 1), "float32")
    assert_backend_array(flavour, terminated, (2, 1), "bool")
    assert steps[0] == ([[1.0, 1.0], [0.0, 1.0]], [1.0, 0.0], [False, False], [False, False])
    assert steps[1] == ([[0.0, 0.0], [0.0, 2.0]], [1.0, 0.0], [True, False], [False, False]), "env 0 reset in the step"
    assert steps[3][2:] == ([True, False], [False, True]), "env 0 ends its second episode; env 1 hits the time limit"
    assert wrapper.reset()[0] is observations, "reset returns the last step's observations"


def test_legacy_gymnax_done_is_termination(backend):
    wrapper = wrappers(backend).wrap_env(LegacyCounterEnv(), wrapper="gymnax", verbose=False, num_envs=1)
    wrapper.reset()
    flags = [wrapper.step(agent_actions(backend, [[0]]))[2:4] for _ in range(4)]
    assert [(as_numpy(t).item(), as_numpy(u).item()) for t, u in flags] == [(False, False)] * 3 + [(True, False)]


def test_gymnax_seed_makes_runs_repeatable(backend):
    def run(seed):
        wrapper = wrappers(backend).wrap_env(CounterEnv(), wrapper="gymnax", verbose=False, num_envs=3, seed=seed)
        wrapper.reset()
        return as_numpy(wrapper.step(agent_actions(backend, [[1], [1], [0]]))[0])

    np.testing.assert_array_equal(run(1), run(1))


def test_gymnax_invalid_num_envs(backend):
    with pytest.raises(ValueError, match=r"Invalid `num_envs`: expected a positive int. Received: num_envs=0"):
        wrappers(backend).wrap_env(CounterEnv(), verbose=False, num_envs=0)


@pytest.mark.skipif(not HAS_GYMNAX, reason="gymnax is not installed (pip install skrl[gymnax])")
@pytest.mark.parametrize("env_id, obs_size, actions", [("CartPole-v1", 4, [[1], [0]]), ("Pendulum-v1", 3, [[0.5], [-0.5]])])
def test_real_gymnax_envs(flavour, env_id, obs_size, actions):
    import gymnax

    env, params = gymnax.make(env_id)
    wrapper = wrappers(flavour[0]).wrap_env(env, verbose=False, num_envs=2, params=params, seed=0)
    observations, _ = wrapper.reset()
    assert_backend_array(flavour, observations, (2, obs_size), "float32")
    episode_ends = 0
    for _ in range(210):
        observations, rewards, terminated, truncated, _ = wrapper.step(agent_actions(flavour[0], actions))
        episode_ends += int(as_numpy(terminated).sum() + as_numpy(truncated).sum())
    assert_backend_array(flavour, rewards, (2, 1), "float32")
    assert episode_ends > 0


# ---- Brax ------------------------------------------------------------------------------------------------------


class BraxState(NamedTuple):
    obs: jax.Array
    reward: jax.Array
    done: jax.Array
    info: dict


class FakeBraxEnv:
    """Brax-like batched env: obs ``(n, 2)``; env 0 terminates at step 1; every env truncates at step 3."""

    observation_size = 2
    action_size = 1

    def __init__(self, batch_size=2):
        self.batch_size = batch_size

    def reset(self, rng):
        zeros = jnp.zeros(self.batch_size)
        obs = jnp.zeros((self.batch_size, 2)) + jax.random.uniform(rng, (self.batch_size, 1))
        return BraxState(obs, zeros, zeros, {"steps": zeros, "truncation": zeros})

    def step(self, state, action):
        steps = state.info["steps"] + 1
        obs = state.obs + action
        terminal = (jnp.arange(self.batch_size) == 0) & (steps == 1)
        truncation = (steps == 3).astype(jnp.float32)
        done = jnp.maximum(terminal.astype(jnp.float32), truncation)
        return BraxState(obs, action[:, 0] * 2, done, {"steps": steps, "truncation": truncation})


FakeBraxEnv.__module__ = "brax.envs.wrappers.training"


def test_brax_detection_shapes_and_flags(flavour):
    backend = flavour[0]
    wrapper = wrappers(backend).wrap_env(FakeBraxEnv(), verbose=False, seed=0)
    assert type(wrapper).__name__ == "BraxWrapper" and wrapper.num_envs == 2
    assert wrapper.observation_space == gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    assert wrapper.action_space == gymnasium.spaces.Box(-1, 1, (1,), np.float32)
    observations, info = wrapper.reset()
    assert_backend_array(flavour, observations, (2, 2), "float32") and info == {}
    flags = []
    for _ in range(3):
        next_observations, rewards, terminated, truncated, _ = wrapper.step(agent_actions(backend, np.full((2, 1), 0.5, np.float32)))
        flags.append((as_numpy(terminated).ravel().tolist(), as_numpy(truncated).ravel().tolist()))
    np.testing.assert_allclose(as_numpy(next_observations), as_numpy(observations) + 1.5, rtol=1e-6)
    assert as_numpy(rewards).ravel().tolist() == [1.0, 1.0]
    assert_backend_array(flavour, truncated, (2, 1), "bool")
    assert flags == [([True, False], [False, False]), ([False, False], [False, False]), ([False, False], [True, True])]
    assert wrapper.render() is None


def test_brax_reset_draws_a_new_key_each_time(backend):
    wrapper = wrappers(backend).wrap_env(FakeBraxEnv(), wrapper="brax", verbose=False, seed=0)
    first, second = as_numpy(wrapper.reset()[0]), as_numpy(wrapper.reset()[0])
    assert not np.array_equal(first, second)


def test_unbatched_brax_env_counts_as_one(backend):
    class Unbatched(FakeBraxEnv):
        def reset(self, rng):
            state = super().reset(rng)
            return BraxState(state.obs[0], state.reward[0], state.done[0], {k: v[0] for k, v in state.info.items()})

        def step(self, state, action):
            assert action.shape == (1,)
            return BraxState(state.obs + action, jnp.sum(action), state.done, state.info)

    wrapper = wrappers(backend).wrap_env(Unbatched(), wrapper="brax", verbose=False, seed=0)
    assert wrapper.num_envs == 1
    wrapper.reset()
    observations, rewards, *_ = wrapper.step(agent_actions(backend, np.ones((1, 1), np.float32)))
    assert tuple(observations.shape) == (1, 2) and tuple(rewards.shape) == (1, 1)


@pytest.mark.parametrize("make_env, kwargs", [(CounterEnv, {"num_envs": 2}), (FakeBraxEnv, {})], ids=["gymnax", "brax"])
def test_ppo_trains_on_functional_envs(backend, tmp_path, make_env, kwargs):
    import builders

    wrapper = wrappers(backend).wrap_env(make_env(), verbose=False, seed=0, **kwargs)
    agent = builders.make_ppo(backend, wrapper, {"rollouts": 4, "learning_epochs": 1, "mini_batches": 1,
                                                 "experiment": {"directory": str(tmp_path)}})
    builders.trainer(backend, wrapper, agent, timesteps=8).train()
    assert agent.memory.filled


class _BufferReusingEnv(gymnasium.Env):
    """Writes every step's observation and reward into the same NumPy buffers and returns them (as vectorised
    simulators do to avoid allocations)."""

    def __init__(self):
        self.observation_space = gymnasium.spaces.Box(-10, 10, (3,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self._obs, self._t = np.zeros(3, np.float32), 0

    def reset(self, *, seed=None, options=None):
        self._t = 0
        self._obs[:] = 0
        return self._obs, {}

    def step(self, action):
        self._t += 1
        self._obs[:] = self._t
        return self._obs, float(self._t), False, False, {}


def test_jax_backend_outputs_do_not_alias_an_envs_reused_buffers():
    """On the CPU, ``jax.device_put`` of a small NumPy array may share its memory; the wrapper's arrays must not
    change when the env rewrites its buffers on the next step."""
    from skrl.envs.wrappers.jax import wrap_env

    previous = config.jax.backend
    config.jax.backend = "jax"
    try:
        env = wrap_env(_BufferReusingEnv(), wrapper="gymnasium", verbose=False)
        env.reset()
        first, *_ = env.step(np.zeros((1, 1), np.int32))
        second, *_ = env.step(np.zeros((1, 1), np.int32))
        assert isinstance(first, jax.Array)
        np.testing.assert_array_equal(np.asarray(first), [[1, 1, 1]])
        np.testing.assert_array_equal(np.asarray(second), [[2, 2, 2]])
    finally:
        config.jax.backend = previous
