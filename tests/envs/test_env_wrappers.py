"""skrl.envs.wrappers.{torch,jax}: wrap_env detection and dispatch, base classes, and the gymnasium wrapper."""

import contextlib
import importlib
import importlib.util
import logging

import gymnasium
import numpy as np
import pytest

from skrl import config
from skrl.common.env_wrappers import detect_wrapper_name

FLAVOURS = [("torch", "numpy"), ("jax", "numpy"), ("jax", "jax")]  # backend, JAX array backend


@pytest.fixture(params=FLAVOURS, ids=["torch", "jax-numpy", "jax-jax"])
def flavour(request, monkeypatch):
    """``(backend, JAX array backend)``, with ``config.jax.backend`` set for the test (restored afterwards)."""
    monkeypatch.setattr(config.jax, "backend", request.param[1])
    return request.param


# env id, num_envs, observation size
ENVS = [("CartPole-v1", 1, 4), ("CartPole-v1", 3, 4), ("Pendulum-v1", 1, 3), ("Pendulum-v1", 3, 3)]
ENV_IDS = ["cartpole", "cartpole-vec", "pendulum", "pendulum-vec"]


def wrappers(backend):
    return importlib.import_module(f"skrl.envs.wrappers.{backend}")


def make_env(env_id, num_envs, **vector_kwargs):
    if num_envs == 1:
        return gymnasium.make(env_id)
    return gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", vector_kwargs=vector_kwargs)


def as_numpy(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def backend_array(backend, array):
    """``array`` as the kind of array an agent of ``backend`` passes to ``step``."""
    if backend == "torch":
        import torch

        return torch.as_tensor(array)
    return np.asarray(array)


def zero_actions(backend, wrapper):
    discrete = isinstance(wrapper.action_space, gymnasium.spaces.Discrete)
    return backend_array(backend, np.zeros((wrapper.num_envs, 1), dtype=np.int64 if discrete else np.float32))


def assert_output(flavour, x, shape, dtype_name):
    backend, array_backend = flavour
    if backend == "torch":
        import torch

        assert isinstance(x, torch.Tensor) and x.device == torch.device("cpu")
    else:
        import jax

        assert isinstance(x, jax.Array if array_backend == "jax" else np.ndarray)
    assert tuple(x.shape) == shape
    assert str(x.dtype).replace("torch.", "") == dtype_name


@pytest.mark.parametrize("env_id, num_envs, size", ENVS, ids=ENV_IDS)
def test_reset_and_step_shapes_and_dtypes(flavour, env_id, num_envs, size):
    wrapper = wrappers(flavour[0]).wrap_env(make_env(env_id, num_envs), verbose=False)
    assert wrapper.num_envs == num_envs
    observations, info = wrapper.reset()
    assert_output(flavour, observations, (num_envs, size), "float32")
    assert isinstance(info, dict)
    observations, rewards, terminated, truncated, info = wrapper.step(zero_actions(flavour[0], wrapper))
    assert_output(flavour, observations, (num_envs, size), "float32")
    assert_output(flavour, rewards, (num_envs, 1), "float32")
    assert_output(flavour, terminated, (num_envs, 1), "bool")
    assert_output(flavour, truncated, (num_envs, 1), "bool")
    wrapper.close()


class ActionRecorder(gymnasium.Wrapper):
    def step(self, action):
        self.actions = getattr(self, "actions", []) + [action]
        return super().step(action)


class VectorActionRecorder(gymnasium.vector.VectorWrapper):
    def step(self, actions):
        self.actions = getattr(self, "actions", []) + [actions]
        return super().step(actions)


def test_discrete_action_reaches_single_env_as_int(backend):
    env = ActionRecorder(gymnasium.make("CartPole-v1"))
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    wrapper.reset()
    wrapper.step(backend_array(backend, [[1]]))
    assert type(env.actions[0]) is int and env.actions[0] == 1


def test_discrete_action_reaches_vector_env_as_batch(backend):
    env = VectorActionRecorder(make_env("CartPole-v1", 3))
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    wrapper.reset()
    wrapper.step(backend_array(backend, [[1], [0], [1]]))
    action = env.actions[0]
    assert isinstance(action, np.ndarray) and action.shape == (3,) and np.issubdtype(action.dtype, np.integer)
    assert action.tolist() == [1, 0, 1]


def test_box_action_reaches_single_env_with_space_shape_and_dtype(backend):
    env = ActionRecorder(gymnasium.make("Pendulum-v1"))
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    wrapper.reset()
    wrapper.step(backend_array(backend, np.full((1, 1), 0.5, dtype=np.float64)))
    assert env.actions[0].shape == (1,) and env.actions[0].dtype == np.float32


@pytest.mark.parametrize("mode", [gymnasium.vector.AutoresetMode.NEXT_STEP, gymnasium.vector.AutoresetMode.SAME_STEP])
def test_vector_autoreset_never_yields_a_reset_transition(backend, mode):
    """CartPole gives reward 1 on every real step; a leaked autoreset step would give reward 0."""
    env = make_env("CartPole-v1", 3, autoreset_mode=mode)
    env.reset(seed=0)
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    wrapper.reset()
    rng = np.random.default_rng(0)
    episodes_ended = 0
    for _ in range(120):
        actions = backend_array(backend, rng.integers(0, 2, (3, 1)))
        observations, rewards, terminated, truncated, info = wrapper.step(actions)
        assert (as_numpy(rewards) == 1).all()
        finished = (as_numpy(terminated) | as_numpy(truncated)).reshape(-1)
        if finished.any():
            episodes_ended += int(finished.sum())
            assert (np.abs(as_numpy(observations)[finished]) <= 0.05).all(), "expected reset observations"
            assert "final_obs" in info and info["_final_obs"].tolist() == finished.tolist()
    assert episodes_ended > 0


def test_vector_env_without_declared_autoreset_mode_is_left_alone_with_a_warning(backend):
    env = make_env("CartPole-v1", 2)
    env.metadata = {k: v for k, v in env.metadata.items() if k != "autoreset_mode"}
    with skrl_log_messages() as messages:
        wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert any("does not declare its autoreset mode" in m for m in messages)
    wrapper.reset()
    rewards = [as_numpy(wrapper.step(zero_actions(backend, wrapper))[1]) for _ in range(30)]
    assert (np.concatenate(rewards) == 0).any(), "the env's own next-step autoreset shows through"


def test_vector_reset_runs_once_then_returns_the_last_observations(backend):
    wrapper = wrappers(backend).wrap_env(make_env("Pendulum-v1", 3), verbose=False)
    first, _ = wrapper.reset()
    again, _ = wrapper.reset()
    assert again is first
    stepped, *_ = wrapper.step(zero_actions(backend, wrapper))
    after, _ = wrapper.reset()
    assert after is stepped


def test_single_env_resets_at_every_call(backend):
    class ResetCounter(gymnasium.Wrapper):
        resets = 0

        def reset(self, **kwargs):
            self.resets += 1
            return super().reset(**kwargs)

    env = ResetCounter(gymnasium.make("Pendulum-v1"))
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    wrapper.reset()
    wrapper.reset()
    assert env.resets == 2


@pytest.mark.parametrize("env_id, num_envs, size", ENVS, ids=ENV_IDS)
def test_properties(backend, env_id, num_envs, size):
    env = make_env(env_id, num_envs)
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert wrapper.num_envs == num_envs and wrapper.num_agents == 1 and wrapper.state_space is None
    single = env.single_observation_space if num_envs > 1 else env.observation_space
    assert wrapper.observation_space == single and wrapper.observation_space.shape == (size,)
    assert wrapper._env is env and wrapper._unwrapped is env.unwrapped
    assert isinstance(wrapper, wrappers(backend).Wrapper)


def test_attribute_forwarding(backend):
    env = gymnasium.make("Pendulum-v1")
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert wrapper.spec.id == "Pendulum-v1"
    assert wrapper.max_speed == env.unwrapped.max_speed
    with pytest.raises(AttributeError, match=r"Wrapped environment \(PendulumEnv\) does not have attribute 'nope'"):
        wrapper.nope


class DictEnv(gymnasium.Env):
    """Dict observations (a Box and a Discrete); render returns a marker and close is recorded."""

    observation_space = gymnasium.spaces.Dict(
        {"position": gymnasium.spaces.Box(-1, 1, (2,), dtype=np.float32), "mode": gymnasium.spaces.Discrete(3)}
    )
    action_space = gymnasium.spaces.Box(-1, 1, (1,), dtype=np.float32)
    closed = False

    def reset(self, *, seed=None, options=None):
        return {"position": np.array([0.25, -0.5], dtype=np.float32), "mode": 2}, {}

    def step(self, action):
        return self.reset()[0], 1.0, False, False, {}

    def render(self):
        return "frame"

    def close(self):
        self.closed = True


def test_composite_observations_are_flattened_in_sorted_key_order(backend):
    wrapper = wrappers(backend).wrap_env(DictEnv(), verbose=False)
    observations, _ = wrapper.reset()
    assert as_numpy(observations).tolist() == [[2.0, 0.25, -0.5]]


def test_render_and_close(backend):
    env = DictEnv()
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert wrapper.render() == "frame"
    wrapper.close()
    assert env.closed
    vector = wrappers(backend).wrap_env(gymnasium.vector.SyncVectorEnv([DictEnv, DictEnv]), verbose=False)
    assert vector.render() == ("frame", "frame")


# class names of an env -> detected wrapper name
DETECTION = [
    (["isaaclab.envs.manager_based_rl_env.ManagerBasedRLEnv", "gymnasium.core.Env"], "isaaclab-*"),
    (["omni.isaac.lab.envs.DirectRLEnv"], "isaaclab-*"),
    (["omni.isaac.gym.vec_env.VecEnvBase"], "omniverse-isaacgym"),
    (["isaacgymenvs.tasks.base.vec_task.VecTask"], "isaacgym-preview4"),
    (["rlgpu.tasks.base.vec_task.VecTask"], "isaacgym-preview2"),
    (["brax.envs.base.PipelineEnv"], "brax"),
    (["robosuite.environments.base.MujocoEnv"], "robosuite"),
    (["dm_env._environment.Environment"], "dm"),
    (["pettingzoo.utils.env.ParallelEnv"], "pettingzoo"),
    (["gymnasium.core.Env", "gymnasium.core.Wrapper"], "gymnasium"),
    (["gym.core.Env"], "gym"),
    (["my_package.envs.MyEnv"], None),
]


@pytest.mark.parametrize("class_names, expected", DETECTION)
def test_detect_wrapper_name(class_names, expected):
    assert detect_wrapper_name(class_names) == expected


@contextlib.contextmanager
def skrl_log_messages():
    """Collect the messages of the ``skrl`` logger (which does not propagate to pytest's caplog)."""
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("skrl")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def test_auto_detection_logs_the_classes_and_the_wrapper(backend):
    with skrl_log_messages() as messages:
        wrappers(backend).wrap_env(gymnasium.make("CartPole-v1"))
    assert messages[0].startswith("Environment wrapper: 'auto' (class: ") and "gymnasium.core.Env" in messages[0]
    assert messages[1] == "Environment wrapper: gymnasium"


class UnknownEnv:
    pass


FakeRobosuiteEnv = type("MujocoEnv", (), {"__module__": "robosuite.environments.base"})


def test_wrap_env_errors(backend):
    wrap_env = wrappers(backend).wrap_env
    supported = (r"Supported wrappers: 'auto', 'brax', 'dm', 'gym', 'gymnasium', 'gymnax', 'isaacgym-preview2', "
                 r"'isaacgym-preview3', 'isaacgym-preview4', 'isaaclab-multi-agent', 'isaaclab-single-agent', "
                 r"'omniverse-isaacgym', 'pettingzoo'")
    with pytest.raises(ValueError, match=r"Unknown wrapper type: no wrapper matches the environment classes \(.*UnknownEnv\). " + supported):
        wrap_env(UnknownEnv(), verbose=False)
    with pytest.raises(ValueError, match=r"Unknown wrapper type: 'robosuite' \(detected from the environment classes\). " + supported):
        wrap_env(FakeRobosuiteEnv(), verbose=False)
    with pytest.raises(ValueError, match=r"Unknown wrapper type: 'bidexhands'. " + supported):
        wrap_env(UnknownEnv(), wrapper="bidexhands", verbose=False)
    with pytest.raises(ValueError, match=r"Unknown wrapper type: expected a str"):
        wrap_env(UnknownEnv(), wrapper=None, verbose=False)


@pytest.mark.skipif(importlib.util.find_spec("gym") is not None, reason="gym is installed")
def test_gym_wrapper_without_gym_names_the_install(backend):
    with pytest.raises(ImportError, match="pip install gym"):
        wrappers(backend).wrap_env(gymnasium.make("CartPole-v1"), wrapper="gym", verbose=False)


def test_base_wrapper_methods_are_abstract(backend):
    wrapper = wrappers(backend).Wrapper(gymnasium.make("Pendulum-v1"))
    assert wrapper.observation_space.shape == (3,) and wrapper.num_envs == 1
    for call in (wrapper.reset, lambda: wrapper.step(None), wrapper.state, wrapper.render, wrapper.close):
        with pytest.raises(NotImplementedError, match=r"Wrapper does not implement `\w+`"):
            call()


class TwoAgentEnv:
    possible_agents = ["a", "b"]
    agents = ["a"]
    observation_spaces = {"a": gymnasium.spaces.Box(-1, 1, (2,)), "b": gymnasium.spaces.Box(-1, 1, (3,))}
    action_spaces = {"a": gymnasium.spaces.Discrete(2), "b": gymnasium.spaces.Discrete(3)}
    state_space = gymnasium.spaces.Box(-1, 1, (5,))


def test_multi_agent_base_properties(backend):
    wrapper = wrappers(backend).MultiAgentEnvWrapper(TwoAgentEnv())
    assert wrapper.num_envs == 1 and wrapper.num_agents == 1 and wrapper.max_num_agents == 2
    assert wrapper.observation_space("b").shape == (3,) and wrapper.action_space("a").n == 2
    assert wrapper.state_spaces == {"a": TwoAgentEnv.state_space, "b": TwoAgentEnv.state_space}
    assert wrapper.state_space("a") is TwoAgentEnv.state_space
    with pytest.raises(NotImplementedError, match="MultiAgentEnvWrapper does not implement `step`"):
        wrapper.step({})
