"""PettingZoo (parallel API) and DeepMind ``dm_env`` wrappers, on small envs built on the real packages' bases."""

import collections
import importlib

import dm_env
import gymnasium
import numpy as np
import pytest
import torch
from dm_env import specs
from pettingzoo.test import parallel_api_test
from pettingzoo.utils.env import ParallelEnv

from skrl import config

FLAVOURS = [("torch", "numpy"), ("jax", "numpy"), ("jax", "jax")]  # backend, JAX array backend


@pytest.fixture(params=FLAVOURS, ids=["torch", "jax-numpy", "jax-jax"])
def flavour(request, monkeypatch):
    monkeypatch.setattr(config.jax, "backend", request.param[1])
    return request.param


def wrappers(backend):
    return importlib.import_module(f"skrl.envs.wrappers.{backend}")


def as_numpy(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def agent_actions(backend, array, dtype=np.float32):
    array = np.asarray(array, dtype=dtype)
    return torch.as_tensor(array) if backend == "torch" else array


def assert_backend_array(flavour, x, shape, dtype):
    backend, array_backend = flavour
    if backend == "torch":
        assert isinstance(x, torch.Tensor)
    else:
        import jax

        assert isinstance(x, jax.Array if array_backend == "jax" else np.ndarray)
    assert tuple(x.shape) == shape and str(x.dtype).replace("torch.", "") == dtype


class TagEnv(ParallelEnv):
    """Two agents: "a" (Box obs, Discrete actions) and "b" (Dict obs, Box actions); "b" leaves at step 2 and the
    episode is truncated at step 4."""

    metadata = {"name": "tag_v0"}

    def __init__(self):
        self.possible_agents = ["a", "b"]
        self.observation_spaces = {
            "a": gymnasium.spaces.Box(-10, 10, (3,), np.float32),
            "b": gymnasium.spaces.Dict({"pos": gymnasium.spaces.Box(-10, 10, (2,), np.float32),
                                        "mode": gymnasium.spaces.Discrete(3)}),
        }
        self.action_spaces = {"a": gymnasium.spaces.Discrete(2), "b": gymnasium.spaces.Box(-1, 1, (2,), np.float32)}
        self.state_space = gymnasium.spaces.Box(-10, 10, (4,), np.float32)
        self.received = []

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _observations(self):
        obs = {"a": np.full(3, self.t, np.float32), "b": {"pos": np.full(2, -self.t, np.float32), "mode": self.t % 3}}
        return {uid: obs[uid] for uid in self.agents}

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        return self._observations(), {uid: {} for uid in self.agents}

    def step(self, actions):
        self.received.append(actions)
        self.t += 1
        rewards = {uid: float(np.sum(actions[uid])) for uid in self.agents}
        terminated = {uid: uid == "b" and self.t == 2 for uid in self.agents}
        truncated = {uid: self.t == 4 for uid in self.agents}
        observations, infos = self._observations(), {uid: {"t": self.t} for uid in self.agents}
        self.agents = [uid for uid in self.agents if not (terminated[uid] or truncated[uid])]
        return observations, rewards, terminated, truncated, infos

    def state(self):
        return np.full(4, self.t, np.float32)


def test_fake_follows_the_pettingzoo_parallel_api():
    parallel_api_test(TagEnv(), num_cycles=10)


def test_pettingzoo(flavour):
    backend = flavour[0]
    env = TagEnv()
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert type(wrapper).__name__ == "PettingZooWrapper" and isinstance(wrapper, wrappers(backend).MultiAgentEnvWrapper)
    assert wrapper.num_envs == 1 and wrapper.max_num_agents == 2 and wrapper.possible_agents == ["a", "b"]
    assert wrapper.observation_space("b") == env.observation_spaces["b"] and wrapper.state_space("a") == env.state_space
    observations, infos = wrapper.reset()
    assert infos == {"a": {}, "b": {}} and wrapper.num_agents == 2
    assert_backend_array(flavour, observations["a"], (1, 3), "float32")
    assert as_numpy(observations["b"]).tolist() == [[0, 0, 0]]  # sorted keys: mode, pos
    actions = {"a": agent_actions(backend, [[1]], np.int64), "b": agent_actions(backend, [[0.25, 0.5]])}
    observations, rewards, terminated, truncated, infos = wrapper.step(actions)
    assert type(env.received[0]["a"]) is int and env.received[0]["b"].shape == (2,)
    assert as_numpy(observations["b"]).tolist() == [[1, -1, -1]] and infos["a"] == {"t": 1}
    assert_backend_array(flavour, rewards["b"], (1, 1), "float32")
    assert_backend_array(flavour, terminated["a"], (1, 1), "bool")
    assert as_numpy(rewards["b"]).item() == 0.75
    _, _, terminated, _, _ = wrapper.step(actions)
    assert as_numpy(terminated["b"]).item() and wrapper.num_agents == 1
    observations, rewards, *_ = wrapper.step(actions)
    assert set(env.received[-1]) == {"a"} and set(observations) == {"a"}, "actions of agents that left are not sent"
    state = wrapper.state()
    assert_backend_array(flavour, state, (1, 4), "float32")


def test_pettingzoo_old_reset_api(backend):
    class OldResetEnv(TagEnv):
        def reset(self, seed=None, options=None):
            return super().reset()[0]

    observations, infos = wrappers(backend).wrap_env(OldResetEnv(), wrapper="pettingzoo", verbose=False).reset()
    assert set(observations) == {"a", "b"} and infos == {"a": {}, "b": {}}


class WalkEnv(dm_env.Environment):
    """Observations: position Box(2) and a scalar velocity; the episode ends at step 3 by termination or truncation."""

    def __init__(self, discrete=False, end="truncation"):
        self.discrete, self.end, self.received, self.closed = discrete, end, [], False

    def observation_spec(self):
        return collections.OrderedDict(
            velocity=specs.Array((), np.float64, name="velocity"),
            position=specs.BoundedArray((2,), np.float64, -5.0, 5.0, name="position"),
        )

    def action_spec(self):
        if self.discrete:
            return specs.DiscreteArray(3, name="action")
        return specs.BoundedArray((1,), np.float32, -1.0, 1.0, name="action")

    def _observation(self):
        return collections.OrderedDict(velocity=np.float64(self.t * 0.5), position=np.full(2, float(self.t)))

    def reset(self):
        self.t = 0
        return dm_env.restart(self._observation())

    def step(self, action):
        self.received.append(action)
        self.t += 1
        if self.t < 3:
            return dm_env.transition(reward=1.0, observation=self._observation())
        return getattr(dm_env, self.end)(reward=2.0, observation=self._observation())

    def close(self):
        self.closed = True


def test_dm_spec_conversion():
    from skrl.common.deepmind_envs import convert_dm_spec

    space = convert_dm_spec(WalkEnv().observation_spec())
    assert space["position"] == gymnasium.spaces.Box(-5, 5, (2,), np.float64)
    assert space["velocity"] == gymnasium.spaces.Box(-np.inf, np.inf, (), np.float64)
    assert convert_dm_spec(WalkEnv(discrete=True).action_spec()) == gymnasium.spaces.Discrete(3)
    with pytest.raises(ValueError, match="Unsupported dm_env spec type int"):
        convert_dm_spec(3)


@pytest.mark.parametrize("end, flags", [("truncation", (False, True)), ("termination", (True, False))])
def test_deepmind(flavour, end, flags):
    backend = flavour[0]
    env = WalkEnv(end=end)
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert type(wrapper).__name__ == "DeepMindWrapper" and wrapper.num_envs == 1
    observations, info = wrapper.reset()
    dtype = "float64" if flavour == ("jax", "numpy") else "float32"  # NumPy keeps the env's float64; JAX runs without x64
    assert_backend_array(flavour, observations, (1, 3), dtype)
    assert info == {}
    for _ in range(3):
        observations, rewards, terminated, truncated, _ = wrapper.step(agent_actions(backend, [[0.5]]))
    assert env.received[0].shape == (1,) and env.received[0].dtype == np.float32
    assert as_numpy(observations).tolist() == [[3.0, 3.0, 1.5]]  # sorted keys: position, velocity
    assert_backend_array(flavour, rewards, (1, 1), "float32")
    assert (as_numpy(terminated).item(), as_numpy(truncated).item()) == flags
    assert wrapper.render() is None
    wrapper.close()
    assert env.closed


def test_deepmind_discrete_actions(backend):
    env = WalkEnv(discrete=True)
    wrapper = wrappers(backend).wrap_env(env, wrapper="dm", verbose=False)
    wrapper.reset()
    wrapper.step(agent_actions(backend, [[2]], np.int64))
    assert env.received == [2] and type(env.received[0]) is int
