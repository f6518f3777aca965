"""Sequential and Step trainers on both backends, driven against a recording fake agent.

The fake env emits observations equal to the number of steps taken so far, so the tests can tell which states
reached which call. The fake agent's sampled action is ``states[:, :1]`` and its mean action that plus 1000.
"""

import importlib
import logging

import builders
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from skrl import config
from skrl.common import trainer_core
from skrl.common.errors import UnknownConfigKeyError
from skrl.common.process import ProcessTopology

BASE_CFG = {"timesteps": 3, "disable_progressbar": True, "close_environment_at_exit": False}


def trainers(backend):
    return importlib.import_module(f"skrl.trainers.{backend}")


def to_backend(backend, array):
    return torch.as_tensor(array) if backend == "torch" else jnp.asarray(array)


def to_numpy(x):
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def scalar_infos(backend):
    return {"return": to_backend(backend, np.float32(1.5)), "one": to_backend(backend, np.ones((1,))),
            "vector": to_backend(backend, np.ones(3)), "py": 2.0, "np": np.float32(3.0), "flag": True}


class FakeEnv:
    num_agents = 1

    def __init__(self, backend, num_envs=1, done_at=(), infos=None):
        self.backend, self.num_envs, self.done_at, self.infos = backend, num_envs, set(done_at), infos
        self.calls, self.actions, self._t = [], [], 0

    def _obs(self):
        return to_backend(self.backend, np.full((self.num_envs, 2), self._t, np.float32))

    def reset(self):
        self.calls.append("reset")
        return self._obs(), {}

    def step(self, actions):
        self.calls.append("step")
        self.actions.append(to_numpy(actions))
        self._t += 1
        done = np.full((self.num_envs, 1), self._t in self.done_at)
        infos = {"episode": self.infos(self.backend)} if self.infos else {}
        rewards = np.arange(self.num_envs, dtype=np.float32).reshape(-1, 1)
        return self._obs(), to_backend(self.backend, rewards), to_backend(self.backend, done), to_backend(self.backend, done & False), infos

    def render(self):
        self.calls.append("render")

    def close(self):
        self.calls.append("close")


class FakeAgent:
    def __init__(self, log, name="agent", fail_at=None):
        self.log, self.name, self.fail_at = log, name, fail_at
        self.acted_states, self.transitions, self.tracked = [], [], []

    def _record(self, *entry):
        self.log.append((self.name,) + entry)

    def init(self, trainer_cfg=None):
        self.trainer_cfg = trainer_cfg
        self._record("init")

    def set_running_mode(self, mode):
        self._record("mode", mode)

    def pre_interaction(self, *, timestep, timesteps):
        self._record("pre", timestep, timesteps)

    def act(self, states, *, timestep, timesteps):
        if timestep == self.fail_at:
            raise RuntimeError("boom")
        self._record("act", timestep, timesteps)
        self.acted_states.append(to_numpy(states))
        sample = states[:, :1]
        return sample, None, {"mean_actions": sample + 1000}

    def record_transition(self, *, states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps):
        self._record("record", timestep, timesteps)
        self.transitions.append({k: to_numpy(v) for k, v in dict(states=states, actions=actions, rewards=rewards).items()})

    def track_data(self, tag, value):
        self._record("track", tag)
        self.tracked.append((tag, value))

    def post_interaction(self, *, timestep, timesteps):
        self._record("post", timestep, timesteps)

    def close(self):
        self._record("close")


def events(log, kind):
    return [entry[2:] for entry in log if entry[1] == kind]


def test_train_call_order_and_timesteps(backend):
    log, env = [], FakeEnv(backend)
    agent = FakeAgent(log)
    trainer = trainers(backend).SequentialTrainer(env=env, agents=agent, cfg=dict(BASE_CFG, timesteps=2))
    assert agent.trainer_cfg == trainer.cfg and trainer.cfg["environment_info"] == "episode"
    trainer.train()
    step = [("pre", 0, 2), ("act", 0, 2), ("record", 0, 2), ("post", 0, 2)]
    expected = [("init",), ("mode", "train")] + step + [(k, 1, 2) for k, *_ in step] + [("close",)]
    assert [entry[1:] for entry in log] == expected
    assert env.calls == ["reset", "step", "render", "step", "render"]
    np.testing.assert_array_equal(agent.acted_states[1], [[1.0, 1.0]])  # next_states became the states


def test_headless_skips_render(backend):
    env = FakeEnv(backend)
    trainers(backend).SequentialTrainer(env=env, agents=FakeAgent([]), cfg=dict(BASE_CFG, headless=True)).train()
    assert "render" not in env.calls


@pytest.mark.parametrize("stochastic, offset", [(False, 1000), (True, 0)])
def test_eval_action_choice(backend, stochastic, offset):
    log, env = [], FakeEnv(backend)
    trainer = trainers(backend).SequentialTrainer(env=env, agents=FakeAgent(log), cfg=dict(BASE_CFG, stochastic_evaluation=stochastic))
    trainer.eval()
    assert ("agent", "mode", "eval") in log and events(log, "post") == [(0, 3), (1, 3), (2, 3)]
    assert [a.item() for a in env.actions] == [0 + offset, 1 + offset, 2 + offset]


def test_training_uses_sampled_actions(backend):
    env = FakeEnv(backend)
    trainers(backend).SequentialTrainer(env=env, agents=FakeAgent([]), cfg=BASE_CFG).train()
    assert [a.item() for a in env.actions] == [0, 1, 2]


def test_eval_without_outputs_dict_uses_sampled_actions(backend):
    class NoExtrasAgent(FakeAgent):
        def act(self, states, **kwargs):
            return super().act(states, **kwargs)[0], None, None

    env = FakeEnv(backend)
    trainers(backend).SequentialTrainer(env=env, agents=NoExtrasAgent([]), cfg=BASE_CFG).eval()
    assert [a.item() for a in env.actions] == [0, 1, 2]


def test_info_scalars_are_tracked_as_is(backend):
    agent = FakeAgent([])
    trainers(backend).SequentialTrainer(env=FakeEnv(backend, infos=scalar_infos), agents=agent, cfg=dict(BASE_CFG, timesteps=1)).train()
    assert [tag for tag, _ in agent.tracked] == ["Info / return", "Info / one", "Info / py", "Info / np"]
    array_type = torch.Tensor if backend == "torch" else jax.Array
    assert isinstance(agent.tracked[0][1], array_type) and isinstance(agent.tracked[1][1], array_type)


def test_environment_info_key(backend):
    agent = FakeAgent([])
    cfg = dict(BASE_CFG, timesteps=1, environment_info="other")
    trainers(backend).SequentialTrainer(env=FakeEnv(backend, infos=scalar_infos), agents=agent, cfg=cfg).train()
    assert agent.tracked == []


@pytest.mark.parametrize("num_envs, resets", [(1, 2), (2, 1)])
def test_reset_rule(backend, num_envs, resets):
    env = FakeEnv(backend, num_envs=num_envs, done_at={2})
    agent = FakeAgent([])
    trainers(backend).SequentialTrainer(env=env, agents=agent, cfg=BASE_CFG).train()
    assert env.calls.count("reset") == resets
    assert agent.acted_states[2][0, 0] == 2  # after a reset or not, the env's current observations are used


def test_resume_timestep_starts_training_there(backend, monkeypatch):
    bars = []
    real_tqdm = trainer_core.tqdm.tqdm
    monkeypatch.setattr(trainer_core.tqdm, "tqdm", lambda *args, **kwargs: bars.append(kwargs) or real_tqdm(*args, **kwargs))
    log = []
    agent = FakeAgent(log)
    agent.resume_timestep = 5
    trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=agent, cfg=dict(BASE_CFG, timesteps=7))
    trainer.train()
    assert events(log, "pre") == [(5, 7), (6, 7)]
    assert bars[-1]["initial"] == 5 and bars[-1]["total"] == 7
    log.clear()
    trainer.eval()
    assert events(log, "pre")[0] == (0, 7)
    trainer.initial_timestep = 4
    log.clear()
    trainer.train()
    assert events(log, "pre")[0] == (4, 7)


def test_agent_closed_when_the_loop_fails(backend):
    log = []
    trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=FakeAgent(log, fail_at=1), cfg=BASE_CFG)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.train()
    assert log[-1] == ("agent", "close")


def test_simultaneous_agents_on_scopes(backend):
    log, env = [], FakeEnv(backend, num_envs=5)
    agents = [FakeAgent(log, "a"), FakeAgent(log, "b")]
    trainer = trainers(backend).SequentialTrainer(env=env, agents=agents, agents_scope=[2, 3], cfg=dict(BASE_CFG, timesteps=1))
    assert trainer.agents_scope == [(0, 2), (2, 5)] and trainer.num_simultaneous_agents == 2
    trainer.eval()
    assert env.actions[0].shape == (5, 1) and np.all(env.actions[0] == 1000)
    assert [agent.acted_states[0].shape for agent in agents] == [(2, 2), (3, 2)]
    np.testing.assert_array_equal(agents[1].transitions[0]["rewards"], [[2.0], [3.0], [4.0]])
    assert [entry[:2] for entry in log if entry[1] in ("pre", "act", "post")] == [
        ("a", "pre"), ("b", "pre"), ("a", "act"), ("b", "act"), ("a", "post"), ("b", "post")]


def test_empty_scopes_are_generated(backend, caplog):
    with caplog.at_level(logging.WARNING, logger="skrl"):
        trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend, num_envs=10), agents=[FakeAgent([]) for _ in range(3)], cfg=BASE_CFG)
    assert trainer.agents_scope == [(0, 3), (3, 6), (6, 10)]
    assert "scopes are empty" in caplog.text


@pytest.mark.parametrize("num_envs, scopes, match", [
    (4, [1, 1, 2], r"number of agents \(2\) doesn't match the number of scopes \(3\)"),
    (4, [1, 2], r"scopes \(3\) don't cover the number of parallelizable environments \(4\)"),
    (4, [0, 4], "expected positive numbers of environments"),
    (1, [], r"simultaneous agents \(2\) is greater than the number of environments \(1\)"),
])
def test_scope_errors(backend, num_envs, scopes, match):
    with pytest.raises(ValueError, match=match):
        trainers(backend).SequentialTrainer(env=FakeEnv(backend, num_envs=num_envs), agents=[FakeAgent([]), FakeAgent([])],
                                            agents_scope=scopes, cfg=BASE_CFG)


def test_single_agent_list_is_unwrapped(backend):
    agent = FakeAgent([])
    trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=[agent], cfg=BASE_CFG)
    assert trainer.agents is agent and trainer.agents_scope == [1] and trainer.num_simultaneous_agents == 1
    with pytest.raises(ValueError, match="A list of agents is expected"):
        trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=[], cfg=BASE_CFG)


@pytest.mark.parametrize("agents_as_list", [False, True])
def test_step_trainer_single_agent(backend, agents_as_list):
    log, env = [], FakeEnv(backend)
    agent = FakeAgent(log)
    trainer = trainers(backend).StepTrainer(env=env, agents=[agent] if agents_as_list else agent, cfg=BASE_CFG)
    next_states, rewards, terminated, truncated, infos = trainer.train()
    assert to_numpy(next_states).tolist() == [[1.0, 1.0]] and to_numpy(rewards).shape == (1, 1) and infos == {}
    trainer.train()
    trainer.eval(timestep=10, timesteps=20)
    assert events(log, "pre") == [(1, 3), (2, 3), (10, 20)]
    assert [entry[2] for entry in log if entry[1] == "mode"] == ["train", "train", "eval"]
    assert env.calls.count("reset") == 1 and [a.item() for a in env.actions] == [0, 1, 1002]
    trainer.close()
    assert log[-1] == ("agent", "close")


def test_step_trainer_simultaneous_agents(backend):
    env = FakeEnv(backend, num_envs=4)
    agents = [FakeAgent([]), FakeAgent([])]
    outputs = trainers(backend).StepTrainer(env=env, agents=agents, agents_scope=[1, 3], cfg=BASE_CFG).train()
    assert to_numpy(outputs[0]).shape == (4, 2) and env.actions[0].shape == (4, 1)


def test_unknown_config_key_suggests_closest(backend):
    for name in ("SequentialTrainer", "StepTrainer"):
        with pytest.raises(UnknownConfigKeyError, match="Unknown key 'timestep'.*did you mean 'timesteps'"):
            getattr(trainers(backend), name)(env=FakeEnv(backend), agents=FakeAgent([]), cfg={"timestep": 10})


def test_invalid_config_value(backend):
    with pytest.raises(ValueError, match="Invalid `timesteps`: expected a non-negative int. Received: timesteps=-1"):
        trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=FakeAgent([]), cfg=dict(BASE_CFG, timesteps=-1))


def test_default_configs(backend):
    sequential = importlib.import_module(f"skrl.trainers.{backend}.sequential").SEQUENTIAL_TRAINER_DEFAULT_CONFIG
    step = importlib.import_module(f"skrl.trainers.{backend}.step").STEP_TRAINER_DEFAULT_CONFIG
    expected = {"timesteps": 100000, "headless": False, "disable_progressbar": False, "close_environment_at_exit": True,
                "environment_info": "episode", "stochastic_evaluation": False}
    assert sequential == expected and step == expected


def test_base_trainer_reads_config_leniently(backend):
    trainer = trainers(backend).Trainer(env=FakeEnv(backend), agents=FakeAgent([]), cfg={"custom_key": 1, "close_environment_at_exit": False})
    assert trainer.timesteps == 0 and trainer.cfg["custom_key"] == 1
    with pytest.raises(NotImplementedError, match="use SequentialTrainer"):
        trainer.train()
    assert str(trainer).startswith("Trainer: Trainer")


@pytest.mark.parametrize("scopes, expected", [((10, 3), [3, 3, 4]), ((4, 4), [1, 1, 1, 1]), ((5, 1), [5]), ((7, 2), [3, 4])])
def test_generate_equally_spaced_scopes(backend, scopes, expected):
    assert trainers(backend).generate_equally_spaced_scopes(*scopes) == expected


def test_close_environment_at_exit(backend, monkeypatch, caplog):
    hooks = []
    monkeypatch.setattr(trainer_core.atexit, "register", lambda fn, *args: hooks.append((fn, args)))
    env = FakeEnv(backend)
    trainers(backend).SequentialTrainer(env=env, agents=FakeAgent([]), cfg=dict(BASE_CFG, close_environment_at_exit=True))
    with caplog.at_level(logging.INFO, logger="skrl"):
        for fn, args in hooks:
            fn(*args)
    assert env.calls[-1] == "close" and "Closing environment" in caplog.text and "Environment closed" in caplog.text


def test_rank_above_zero_disables_progressbar(backend, monkeypatch):
    monkeypatch.setattr(getattr(config, backend), "_topology", ProcessTopology(local_rank=1, rank=1, world_size=2))
    trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend), agents=FakeAgent([]), cfg=dict(BASE_CFG, disable_progressbar=False))
    assert trainer.disable_progressbar is True


def test_str_describes_scopes(backend):
    trainer = trainers(backend).SequentialTrainer(env=FakeEnv(backend, num_envs=4), agents=[FakeAgent([]), FakeAgent([])], cfg=BASE_CFG)
    assert "Number of simultaneous agents: 2" in str(trainer) and "scope: (2, 4)" in str(trainer)


def test_real_wrapper_smoke(backend):
    env = builders.wrapped_random_env(backend, num_envs=2)

    class ActingAgent(FakeAgent):
        def act(self, states, **kwargs):
            super().act(states, **kwargs)
            actions = to_backend(backend, np.zeros((states.shape[0], 3), np.float32))
            if backend == "jax" and isinstance(states, np.ndarray):
                actions = np.asarray(actions)
            return actions, None, {}

    log = []
    trainer = trainers(backend).SequentialTrainer(env=env, agents=ActingAgent(log), cfg=dict(BASE_CFG, timesteps=5, headless=True))
    trainer.train()
    trainer.eval()
    assert len(events(log, "record")) == 10


class FakeMultiAgentEnv(FakeEnv):
    num_agents = 2
    possible_agents = ["a", "b"]

    def __init__(self, backend, end_at):
        super().__init__(backend)
        self.end_at, self.agents = end_at, list(self.possible_agents)

    def _obs(self):
        return {uid: to_backend(self.backend, np.full((1, 2), self._t, np.float32)) for uid in self.possible_agents}

    def state(self):
        return self._t

    def reset(self):
        self.agents = list(self.possible_agents)
        return super().reset()

    def step(self, actions):
        self.calls.append("step")
        self.actions.append({uid: to_numpy(a) for uid, a in actions.items()})
        self._t += 1
        self.agents = [] if self._t == self.end_at else self.agents
        zeros = {uid: to_backend(self.backend, np.zeros((1, 1))) for uid in self.possible_agents}
        return self._obs(), zeros, zeros, zeros, {}


class FakeMultiAgent(FakeAgent):
    def act(self, states, *, timestep, timesteps):
        self._record("act", timestep, timesteps)
        return {uid: s[:, :1] for uid, s in states.items()}, None, {uid: {"mean_actions": s[:, :1] + 1000} for uid, s in states.items()}

    def record_transition(self, *, infos, **kwargs):
        self.transitions.append((infos["shared_states"], infos["shared_next_states"]))


def test_multi_agent_env(backend):
    env = FakeMultiAgentEnv(backend, end_at=2)
    agent = FakeMultiAgent([])
    trainers(backend).SequentialTrainer(env=env, agents=agent, cfg=BASE_CFG).eval()
    assert agent.transitions == [(0, 1), (1, 2), (2, 3)]  # shared states from env.state() (the fake's step count)
    assert env.calls.count("reset") == 2  # the env has no agents left after step 2
    assert [a["b"].item() for a in env.actions] == [1000, 1001, 1002]
