"""Isaac Lab / Isaac Gym / Omniverse wrappers, on small torch fakes that behave like those envs.

The fakes emit observations equal to the number of steps taken, record the actions they receive, and end
episodes at chosen steps (Isaac Gym: env 0 times out at step 2, env 1 terminates at step 3).
"""

import contextlib
import importlib
import logging

import gymnasium
import numpy as np
import pytest
import torch

from skrl import config

FLAVOURS = [("torch", "numpy"), ("jax", "numpy"), ("jax", "jax")]  # backend, JAX array backend
NUM_ENVS = 3


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


def assert_backend_array(flavour, x, shape):
    backend, array_backend = flavour
    if backend == "torch":
        assert isinstance(x, torch.Tensor)
    else:
        import jax

        assert isinstance(x, jax.Array if array_backend == "jax" else np.ndarray)
    assert tuple(x.shape) == shape


@contextlib.contextmanager
def skrl_log_messages():
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("skrl")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def box(*shape):
    return gymnasium.spaces.Box(-np.inf, np.inf, shape, dtype=np.float32)


class FakeIsaacLabEnv:
    """Isaac Lab ``DirectRLEnv``-like: dict observations ("policy", "critic"), 5-value step on torch tensors."""

    device = "cpu"

    def __init__(self):
        self.num_envs = NUM_ENVS
        self.single_observation_space = gymnasium.spaces.Dict({"policy": box(3), "critic": box(5)})
        self.single_action_space = gymnasium.spaces.Box(-1, 1, (2,), dtype=np.float32)
        self.t, self.resets, self.actions, self.closed = 0, 0, [], False

    @property
    def unwrapped(self):
        return self

    def _observations(self):
        return {"policy": torch.full((NUM_ENVS, 3), float(self.t)), "critic": torch.zeros(NUM_ENVS, 5)}

    def reset(self):
        self.resets += 1
        return self._observations(), {"log": {}}

    def step(self, actions):
        self.actions.append(actions)
        self.t += 1
        terminated = torch.tensor([self.t == 2, False, False])
        truncated = torch.tensor([False, self.t == 3, False])
        return self._observations(), torch.full((NUM_ENVS,), 0.5), terminated, truncated, {"log": {"t": self.t}}

    def close(self):
        self.closed = True


FakeIsaacLabEnv.__module__ = "isaaclab.envs.direct_rl_env"


class FakeIsaacLabMultiAgentEnv(FakeIsaacLabEnv):
    """Isaac Lab ``DirectMARLEnv``-like: per-agent dicts and a global ``state()``."""

    possible_agents = ["a", "b"]

    def __init__(self):
        super().__init__()
        self.agents = list(self.possible_agents)
        self.observation_spaces = {"a": box(3), "b": box(4)}
        self.action_spaces = {"a": gymnasium.spaces.Box(-1, 1, (2,)), "b": gymnasium.spaces.Box(-1, 1, (1,))}
        self.state_space = box(6)

    def _observations(self):
        return {uid: torch.full((NUM_ENVS, self.observation_spaces[uid].shape[0]), float(self.t)) for uid in self.agents}

    def step(self, actions):
        self.actions.append(actions)
        self.t += 1
        per_agent = lambda value: {uid: value.clone() for uid in self.agents}  # noqa: E731
        return (self._observations(), per_agent(torch.ones(NUM_ENVS)), per_agent(torch.zeros(NUM_ENVS, dtype=torch.bool)),
                per_agent(torch.zeros(NUM_ENVS, dtype=torch.bool)), {})

    def state(self):
        return torch.full((NUM_ENVS, 6), float(self.t))


class VecTaskBehaviour:
    """Isaac Gym ``VecTask``-like (preview 3/4): ``{"obs": tensor}`` observations, 4-value step, long buffers."""

    device = "cpu"
    num_states = 0
    wrap_observations = True

    def __init__(self):
        self.num_envs = NUM_ENVS
        self.observation_space = box(4)
        self.action_space = gymnasium.spaces.Box(-1, 1, (2,), dtype=np.float32)
        self.state_space = box(7)
        self.t, self.resets, self.actions = 0, 0, []

    def _observations(self):
        obs = torch.full((NUM_ENVS, 4), float(self.t))
        return {"obs": obs} if self.wrap_observations else obs

    def reset(self):
        self.resets += 1
        return self._observations()

    def step(self, actions):
        self.actions.append(actions)
        self.t += 1
        time_outs = torch.tensor([int(self.t == 2), 0, 0])
        resets = torch.tensor([int(self.t == 2), int(self.t == 3), 0])
        return self._observations(), torch.ones(NUM_ENVS), resets, {"time_outs": time_outs}


class FakeVecTask(VecTaskBehaviour):
    pass


FakeVecTask.__module__ = "isaacgymenvs.tasks.base.vec_task"
FakeVecTask.__qualname__ = FakeVecTask.__name__ = "VecTask"


class FakePreview2VecTask(VecTaskBehaviour):
    wrap_observations = False


FakePreview2VecTask.__module__ = "rlgpu.tasks.base.vec_task"
FakePreview2VecTask.__qualname__ = FakePreview2VecTask.__name__ = "VecTask"


class FakeOmniverseEnv(VecTaskBehaviour):
    def __init__(self):
        super().__init__()
        self.closed, self.ran = False, None

    def close(self):
        self.closed = True

    def run(self, trainer=None):
        self.ran = trainer


FakeOmniverseEnv.__module__ = "omni.isaac.gym.vec_env.vec_env_base"
FakeOmniverseEnv.__qualname__ = FakeOmniverseEnv.__name__ = "VecEnvBase"


# fake, detected label, wrapper class name
DETECTION = [
    (FakeIsaacLabEnv, "Isaac Lab (single-agent)", "IsaacLabWrapper"),
    (FakeIsaacLabMultiAgentEnv, "Isaac Lab (multi-agent)", "IsaacLabMultiAgentWrapper"),
    (FakeVecTask, "Isaac Gym (preview 4)", "IsaacGymPreview3Wrapper"),
    (FakePreview2VecTask, "Isaac Gym (preview 2)", "IsaacGymPreview2Wrapper"),
    (FakeOmniverseEnv, "Omniverse Isaac Gym", "OmniverseIsaacGymWrapper"),
]


@pytest.mark.parametrize("fake, label, class_name", DETECTION, ids=[d[2] for d in DETECTION])
def test_auto_detection(backend, fake, label, class_name):
    with skrl_log_messages() as messages:
        wrapper = wrappers(backend).wrap_env(fake())
    assert messages[-1] == f"Environment wrapper: {label}"
    assert type(wrapper) is getattr(wrappers(backend), class_name)


def test_isaaclab_single_agent(flavour):
    backend = flavour[0]
    env = FakeIsaacLabEnv()
    wrapper = wrappers(backend).wrap_env(env, wrapper="isaaclab", verbose=False)
    assert wrapper.num_envs == NUM_ENVS and wrapper.num_agents == 1
    assert wrapper.observation_space.shape == (3,) and wrapper.state_space.shape == (5,) and wrapper.action_space.shape == (2,)
    observations, info = wrapper.reset()
    assert_backend_array(flavour, observations, (NUM_ENVS, 3)) and info == {"log": {}}
    assert wrapper.reset()[0] is observations and env.resets == 1
    outputs = wrapper.step(agent_actions(backend, np.full((NUM_ENVS, 2), 0.25, np.float32)))
    assert isinstance(env.actions[0], torch.Tensor) and env.actions[0].shape == (NUM_ENVS, 2)
    assert torch.all(env.actions[0] == 0.25)
    for x, shape in zip(outputs[:4], [(NUM_ENVS, 3)] + [(NUM_ENVS, 1)] * 3):
        assert_backend_array(flavour, x, shape)
    assert as_numpy(outputs[0]).tolist() == [[1.0] * 3] * NUM_ENVS and as_numpy(outputs[1]).ravel().tolist() == [0.5] * 3
    wrapper.step(agent_actions(backend, np.zeros((NUM_ENVS, 2), np.float32)))
    observations, rewards, terminated, truncated, info = wrapper.step(agent_actions(backend, np.zeros((NUM_ENVS, 2), np.float32)))
    assert as_numpy(truncated).ravel().tolist() == [False, True, False] and info == {"log": {"t": 3}}
    assert wrapper.reset()[0] is observations and env.resets == 1, "reset returns the last step's observations"
    assert wrapper.render() is None
    wrapper.close()
    assert env.closed


def test_isaaclab_multi_agent(flavour):
    backend = flavour[0]
    env = FakeIsaacLabMultiAgentEnv()
    wrapper = wrappers(backend).wrap_env(env, wrapper="isaaclab", verbose=False)
    assert wrapper.possible_agents == ["a", "b"] and wrapper.num_agents == 2 and wrapper.max_num_agents == 2
    assert wrapper.observation_space("b").shape == (4,) and wrapper.state_space("a").shape == (6,)
    observations, _ = wrapper.reset()
    assert_backend_array(flavour, observations["b"], (NUM_ENVS, 4))
    actions = {"a": agent_actions(backend, np.ones((NUM_ENVS, 2), np.float32)),
               "b": agent_actions(backend, np.ones((NUM_ENVS, 1), np.float32))}
    observations, rewards, terminated, truncated, _ = wrapper.step(actions)
    assert {uid: tuple(a.shape) for uid, a in env.actions[0].items()} == {"a": (NUM_ENVS, 2), "b": (NUM_ENVS, 1)}
    assert_backend_array(flavour, rewards["a"], (NUM_ENVS, 1))
    assert as_numpy(terminated["b"]).dtype == np.bool_
    state = wrapper.state()
    assert_backend_array(flavour, state, (NUM_ENVS, 6))
    assert as_numpy(state)[0, 0] == 1.0
    assert wrapper.reset()[0] is observations


@pytest.mark.parametrize("fake", [FakeVecTask, FakePreview2VecTask, FakeOmniverseEnv],
                         ids=["preview3", "preview2", "omniverse"])
def test_isaacgym_time_outs_are_truncations(flavour, fake):
    backend = flavour[0]
    env = fake()
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    assert wrapper.observation_space == box(4) and wrapper.state_space is None
    observations, info = wrapper.reset()
    assert_backend_array(flavour, observations, (NUM_ENVS, 4)) and info == {}
    flags = []
    for _ in range(3):
        _, rewards, terminated, truncated, extras = wrapper.step(agent_actions(backend, np.zeros((NUM_ENVS, 2), np.float32)))
        assert_backend_array(flavour, terminated, (NUM_ENVS, 1))
        flags.append((as_numpy(terminated).ravel().tolist(), as_numpy(truncated).ravel().tolist()))
    assert as_numpy(terminated).dtype == np.bool_ and "time_outs" in extras
    assert flags[1] == ([False, False, False], [True, False, False]), "a time-out is a truncation only"
    assert flags[2] == ([False, True, False], [False, False, False])
    assert isinstance(env.actions[0], torch.Tensor) and env.actions[0].shape == (NUM_ENVS, 2)
    assert env.resets == 1 and as_numpy(wrapper.reset()[0])[0, 0] == 3.0


def test_isaacgym_without_time_outs_and_with_states(backend):
    env = FakeVecTask()
    env.num_states = 7
    env.step = lambda actions: ({"obs": torch.zeros(NUM_ENVS, 4)}, torch.ones(NUM_ENVS), torch.tensor([1, 0, 0]), {})
    wrapper = wrappers(backend).wrap_env(env, wrapper="isaacgym-preview3", verbose=False)
    assert wrapper.state_space == box(7)
    _, _, terminated, truncated, _ = wrapper.step(agent_actions(backend, np.zeros((NUM_ENVS, 2), np.float32)))
    assert as_numpy(terminated).ravel().tolist() == [True, False, False]
    assert as_numpy(truncated).ravel().tolist() == [False] * 3


def test_omniverse_close_and_run(backend):
    env = FakeOmniverseEnv()
    wrapper = wrappers(backend).wrap_env(env, verbose=False)
    trainer = object()
    wrapper.run(trainer)
    wrapper.close()
    assert env.ran is trainer and env.closed
    preview3 = wrappers(backend).wrap_env(FakeVecTask(), verbose=False)
    preview3.close()  # Isaac Gym preview envs are not closed by the wrapper (no close method on the fake)


@pytest.mark.parametrize("fake", [FakeIsaacLabEnv, FakeVecTask], ids=["isaaclab", "isaacgym"])
def test_ppo_trains_on_isaac_envs(backend, tmp_path, fake):
    import builders

    wrapper = wrappers(backend).wrap_env(fake(), verbose=False)
    agent = builders.make_ppo(backend, wrapper, {"rollouts": 4, "learning_epochs": 1, "mini_batches": 1,
                                                 "experiment": {"directory": str(tmp_path)}})
    builders.trainer(backend, wrapper, agent, timesteps=8).train()
    assert agent.memory.filled
