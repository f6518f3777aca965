"""The trainer loops, written once for both backends.

A backend ``Trainer`` (``skrl.trainers.torch.Trainer`` / ``skrl.trainers.jax.Trainer``) supplies a few hooks: a no-grad
context (``_no_grad``), the concatenation of the actions of simultaneous agents (``_concatenate``), the test for a
one-element backend array (``_is_scalar_array``) and the carrying of the gradient mode into worker threads
(``_thread_context``). Everything else (config, agent scopes, the interaction step, resets, progress bar,
``Info / *`` tracking, closing) lives here.

One interaction step, for each agent (or each agent on its scope of environments)::

    pre_interaction -> [no grad: act -> env.step -> render -> record_transition -> track "Info / <k>"] -> post_interaction
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import dataclasses
import sys
from typing import Any, Callable, ContextManager, Mapping, Optional, Sequence

import numpy as np
import tqdm

from skrl import config
from skrl._logging import logger
from skrl.common.config_merge import deep_merge


def _trainer_defaults() -> dict[str, Any]:
    return {
        "timesteps": 100000,  # number of timesteps to train or evaluate for
        "headless": False,  # when False, env.render() is called every step
        "disable_progressbar": False,  # tqdm's `disable` (None: disabled on a non-TTY)
        "close_environment_at_exit": True,  # close the environment when the interpreter exits
        "environment_info": "episode",  # infos key whose one-element values are tracked as "Info / <k>"
        "stochastic_evaluation": False,  # evaluate with sampled actions instead of the mean actions
    }


SEQUENTIAL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = _trainer_defaults()
STEP_TRAINER_DEFAULT_CONFIG: dict[str, Any] = _trainer_defaults()
PARALLEL_TRAINER_DEFAULT_CONFIG: dict[str, Any] = _trainer_defaults()


def generate_equally_spaced_scopes(num_envs: int, num_simultaneous_agents: int) -> list[int]:
    """Split ``num_envs`` environments over the agents as evenly as possible; the last agent gets the remainder.

    Example: ``generate_equally_spaced_scopes(10, 3) == [3, 3, 4]``.
    """
    if num_simultaneous_agents <= 0:
        raise ValueError(
            f"Invalid `num_simultaneous_agents`: expected a positive int. Received: {num_simultaneous_agents=}"
        )
    scopes = [int(num_envs / num_simultaneous_agents)] * num_simultaneous_agents
    if not any(scopes):
        raise ValueError(
            f"The number of simultaneous agents ({num_simultaneous_agents}) is greater than the number of "
            f"environments ({num_envs})"
        )
    scopes[-1] += num_envs - sum(scopes)
    return scopes


def cumulative_scopes(scopes: Sequence[int], num_agents: int, num_envs: int) -> list[tuple[int, int]]:
    """Turn per-agent environment counts into ``(start, end)`` slices: ``[3, 3, 4]`` gives ``[(0, 3), (3, 6), (6, 10)]``."""
    if not scopes:
        logger.warning("The agents' scopes are empty, they will be generated as equal as possible")
        scopes = generate_equally_spaced_scopes(num_envs, num_agents)
    if len(scopes) != num_agents:
        raise ValueError(f"The number of agents ({num_agents}) doesn't match the number of scopes ({len(scopes)})")
    if any(int(scope) <= 0 for scope in scopes):
        raise ValueError(f"Invalid agents' scopes: expected positive numbers of environments. Received: {list(scopes)}")
    if sum(scopes) != num_envs:
        raise ValueError(f"The scopes ({sum(scopes)}) don't cover the number of parallelizable environments ({num_envs})")
    ends = np.cumsum(scopes).tolist()
    return [(end - int(scope), end) for scope, end in zip(scopes, ends)]


@dataclasses.dataclass(frozen=True)
class TrainerSettings:
    """The trainer config keys, read from the (merged) config dict and checked."""

    timesteps: int = 0
    headless: bool = False
    disable_progressbar: Optional[bool] = False
    close_environment_at_exit: bool = True
    environment_info: str = "episode"
    stochastic_evaluation: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.timesteps, bool) or not isinstance(self.timesteps, (int, np.integer)) or self.timesteps < 0:
            raise ValueError(f"Invalid `timesteps`: expected a non-negative int. Received: timesteps={self.timesteps!r}")
        if not isinstance(self.environment_info, str):
            raise ValueError(
                f"Invalid `environment_info`: expected the infos key as a str. Received: environment_info={self.environment_info!r}"
            )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "TrainerSettings":
        """Read the known keys of ``cfg`` (others are left to custom trainers), with the defaults above."""
        names = [field.name for field in dataclasses.fields(cls)]
        return cls(**{name: cfg[name] for name in names if name in cfg})


def _close_environment(env: Any) -> None:
    logger.info("Closing environment")
    env.close()
    logger.info("Environment closed")


def _part(x: Any, scope: Optional[tuple[int, int]]) -> Any:
    return x if scope is None else x[scope[0] : scope[1]]


def _mean_or_sample(sample: Any, extra: Any) -> Any:
    return extra.get("mean_actions", sample) if isinstance(extra, Mapping) else sample


class TrainerCore:
    """Base trainer: agent scopes, the interaction step and the train/eval loop over ``range(start, timesteps)``.

    Subclasses set ``default_config`` to have the user's config deep-merged over it (unknown keys are rejected);
    without it (custom trainers of skrl 1.4.3 style) the config is read as given.
    """

    default_config: Optional[Mapping[str, Any]] = None
    #: whether the constructor calls ``agent.init(trainer_cfg=self.cfg)`` (custom 1.4.3-style trainers do it themselves)
    initializes_agents: bool = False
    #: name of the ``skrl.config`` section that gives the process rank ("torch" or "jax")
    backend: str = ""

    def __init__(self, env: Any, agents: Any, agents_scope: Optional[Sequence[int]] = None,
                 cfg: Optional[Mapping[str, Any]] = None) -> None:
        if self.default_config is not None:
            cfg = deep_merge(self.default_config, cfg, where=f"the {type(self).__name__} config")
        self.cfg = dict(cfg or {})
        settings = TrainerSettings.from_config(self.cfg)
        self.env = env
        self.agents = agents
        self.agents_scope = list(agents_scope or [])
        for field in dataclasses.fields(settings):
            setattr(self, field.name, getattr(settings, field.name))
        self.initial_timestep = 0
        self._shared_states = None
        backend_config = getattr(config, self.backend, None)
        if backend_config is not None and backend_config.rank > 0:
            self.disable_progressbar = True
        self._setup_agents()
        if self.initializes_agents:
            self._init_agents()
        if self.close_environment_at_exit:
            atexit.register(_close_environment, env)

    # backend hooks

    def _no_grad(self) -> ContextManager:
        return contextlib.nullcontext()

    def _concatenate(self, actions: list) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement _concatenate(actions)")

    def _is_scalar_array(self, value: Any) -> bool:
        return False

    def _thread_context(self) -> Callable[[], ContextManager]:
        """A factory, called in a worker thread, of the context that gives it this thread's gradient mode."""
        return contextlib.nullcontext

    # setup

    @property
    def _multi_agent_env(self) -> bool:
        # the possible agents: ``num_agents`` drops to 0 when every agent of a PettingZoo env has left the episode
        return getattr(self.env, "max_num_agents", getattr(self.env, "num_agents", 1)) > 1

    def _setup_agents(self) -> None:
        if not isinstance(self.agents, (list, tuple)):
            self.num_simultaneous_agents = 1
            return
        if not self.agents:
            raise ValueError("A list of agents is expected. Received: an empty list")
        if len(self.agents) == 1:
            self.agents, self.agents_scope, self.num_simultaneous_agents = self.agents[0], [1], 1
            return
        if self._multi_agent_env:
            raise ValueError(
                f"Several simultaneous agents need a single-agent environment. Received: {len(self.agents)} agents "
                f"for an environment with num_agents={self.env.num_agents}"
            )
        self.agents = list(self.agents)
        self.num_simultaneous_agents = len(self.agents)
        self.agents_scope = cumulative_scopes(self.agents_scope, len(self.agents), self.env.num_envs)

    def _agent_list(self) -> list:
        return list(self.agents) if self.num_simultaneous_agents > 1 else [self.agents]

    def _scoped_agents(self) -> list[tuple[Any, Optional[tuple[int, int]]]]:
        if self.num_simultaneous_agents > 1:
            return list(zip(self.agents, self.agents_scope))
        return [(self.agents, None)]

    def _init_agents(self) -> None:
        for agent in self._agent_list():
            agent.init(trainer_cfg=self.cfg)
            record = getattr(agent, "record_environment", None)
            if callable(record):
                record(self.env)

    def _start_timestep(self, training: bool) -> int:
        """``initial_timestep`` if set, else (in training) the agents' common ``resume_timestep`` from a checkpoint."""
        if self.initial_timestep or not training:
            return self.initial_timestep
        resumes = [getattr(agent, "resume_timestep", 0) for agent in self._agent_list()]
        return min(r if isinstance(r, int) and not isinstance(r, bool) and r > 0 else 0 for r in resumes)

    # one interaction step

    def _reset_env(self) -> Any:
        states, _ = self.env.reset()
        if self._multi_agent_env:
            self._shared_states = self.env.state()
        return states

    def _choose_actions(self, outputs: Sequence[Any], training: bool) -> Any:
        if training or self.stochastic_evaluation:
            return outputs[0]
        if self._multi_agent_env and isinstance(outputs[0], Mapping):
            extras = outputs[-1] if isinstance(outputs[-1], Mapping) else {}
            return {uid: _mean_or_sample(sample, extras.get(uid)) for uid, sample in outputs[0].items()}
        return _mean_or_sample(outputs[0], outputs[-1])

    def _map_agents(self, function: Callable[[Any, Optional[tuple[int, int]]], Any], scoped: list) -> list:
        """``[function(agent, scope) for each scoped agent]``, in order (``ParallelTrainer`` runs them concurrently)."""
        return [function(agent, scope) for agent, scope in scoped]

    def _act(self, scoped: list, states: Any, timestep: int, timesteps: int, training: bool) -> Any:
        def act(agent: Any, scope: Optional[tuple[int, int]]) -> Any:
            outputs = agent.act(_part(states, scope), timestep=timestep, timesteps=timesteps)
            return self._choose_actions(outputs, training)

        actions = self._map_agents(act, scoped)
        return actions[0] if self.num_simultaneous_agents == 1 else self._concatenate(actions)

    def _is_scalar(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if isinstance(value, (int, float, np.number)):
            return True
        if isinstance(value, np.ndarray):
            return value.size == 1 and value.dtype.kind in "iuf"
        return self._is_scalar_array(value)

    def _track_infos(self, agent: Any, infos: Any) -> None:
        info = infos.get(self.environment_info) if isinstance(infos, Mapping) else None
        if isinstance(info, Mapping):
            for key, value in info.items():
                if self._is_scalar(value):
                    agent.track_data(f"Info / {key}", value)

    def _step_env(self, actions: Any) -> tuple:
        next_states, rewards, terminated, truncated, infos = self.env.step(actions)
        if self._multi_agent_env:
            shared_next_states = self.env.state()
            infos["shared_states"], infos["shared_next_states"] = self._shared_states, shared_next_states
            self._shared_states = shared_next_states
        if not self.headless:
            self.env.render()
        return next_states, rewards, terminated, truncated, infos

    def _next_states(self, next_states: Any, terminated: Any, truncated: Any) -> Any:
        if self._multi_agent_env:
            return next_states if self.env.agents else self._reset_env()
        if self.env.num_envs > 1 or not (terminated.any() or truncated.any()):
            return next_states
        return self._reset_env()

    def _interact(self, states: Any, timestep: int, timesteps: int, training: bool) -> tuple[Any, tuple]:
        """Run one step for every agent; return the states for the next step and ``env.step``'s five outputs."""
        scoped = self._scoped_agents()
        self._map_agents(lambda agent, _: agent.pre_interaction(timestep=timestep, timesteps=timesteps), scoped)
        with self._no_grad():
            actions = self._act(scoped, states, timestep, timesteps, training)
            next_states, rewards, terminated, truncated, infos = self._step_env(actions)

            def record(agent: Any, scope: Optional[tuple[int, int]]) -> None:
                agent.record_transition(
                    states=_part(states, scope), actions=_part(actions, scope), rewards=_part(rewards, scope),
                    next_states=_part(next_states, scope), terminated=_part(terminated, scope),
                    truncated=_part(truncated, scope), infos=infos, timestep=timestep, timesteps=timesteps,
                )
                self._track_infos(agent, infos)

            self._map_agents(record, scoped)
        self._map_agents(lambda agent, _: agent.post_interaction(timestep=timestep, timesteps=timesteps), scoped)
        with self._no_grad():
            states = self._next_states(next_states, terminated, truncated)
        return states, (next_states, rewards, terminated, truncated, infos)

    # loops

    def _set_running_mode(self, training: bool) -> None:
        for agent in self._agent_list():
            agent.set_running_mode("train" if training else "eval")

    def _finish_agents(self, last_timestep: Optional[int]) -> None:
        """Let each agent write its final checkpoint for the last completed timestep (also after Ctrl-C or an error)."""
        for agent in self._agent_list():
            finish = getattr(agent, "on_loop_end", None)
            if callable(finish):
                finish(last_timestep, self.timesteps)

    def _close_agents(self) -> None:
        for agent in self._agent_list():
            close = getattr(agent, "close", None)
            if callable(close):
                close()

    def _run(self, training: bool) -> None:
        """The train (``training=True``) or eval loop; the agents are closed (writers flushed) even on error."""
        self._set_running_mode(training)
        start = self._start_timestep(training)
        if start >= self.timesteps:
            logger.warning(f"Nothing to run: the loop starts at timestep {start} and timesteps={self.timesteps}")
        last = None
        try:
            with self._no_grad():
                states = self._reset_env()
            progress = tqdm.tqdm(range(start, self.timesteps), disable=self.disable_progressbar, file=sys.stdout,
                                 initial=start, total=self.timesteps)
            for timestep in progress:
                states, _ = self._interact(states, timestep, self.timesteps, training)
                last = timestep
        finally:
            try:
                self._finish_agents(last)
            finally:
                self._close_agents()

    def train(self) -> None:
        """Train the agents (implemented by ``SequentialTrainer`` and ``StepTrainer``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement train(); use SequentialTrainer")

    def eval(self) -> None:
        """Evaluate the agents (implemented by ``SequentialTrainer`` and ``StepTrainer``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement eval(); use SequentialTrainer")

    def single_agent_train(self) -> None:
        """The train loop (kept for custom trainers written for skrl 1.4.3)."""
        self._run(training=True)

    def single_agent_eval(self) -> None:
        """The eval loop (kept for custom trainers written for skrl 1.4.3)."""
        self._run(training=False)

    multi_agent_train = single_agent_train
    multi_agent_eval = single_agent_eval

    def __str__(self) -> str:
        lines = [
            f"Trainer: {type(self).__name__}",
            f"  |-- Number of parallelizable environments: {getattr(self.env, 'num_envs', 1)}",
            f"  |-- Number of simultaneous agents: {self.num_simultaneous_agents}",
        ]
        if self.num_simultaneous_agents > 1:
            lines.append("  |-- Agents and scopes:")
            lines += [f"  |     |-- agent: {type(a).__name__}, scope: {s}" for a, s in zip(self.agents, self.agents_scope)]
        else:
            lines.append(f"  |-- Agent: {type(self.agents).__name__}")
        return "\n".join(lines)


class SequentialTrainerCore(TrainerCore):
    """Train or evaluate agents one after the other at each timestep (one agent, or several on scopes of envs)."""

    default_config = SEQUENTIAL_TRAINER_DEFAULT_CONFIG
    initializes_agents = True

    def train(self) -> None:
        """Run ``agent.set_running_mode("train")`` then the interaction loop up to ``timesteps``."""
        self._run(training=True)

    def eval(self) -> None:
        """Run the loop in eval mode with the mean actions (or sampled ones if ``stochastic_evaluation``)."""
        self._run(training=False)


class ParallelTrainerCore(SequentialTrainerCore):
    """Like ``SequentialTrainerCore``, with several simultaneous agents acting, recording and learning concurrently.

    Each phase of a step (pre-interaction, act, record, post-interaction) runs the agents in a pool of threads
    (one per agent) and waits for all of them, so the order of phases and the results per agent are those of the
    sequential trainer; the frameworks release the GIL in their kernels, so the agents' work overlaps. Threads
    replace skrl 1.4.3's processes: agents, memories and writers are not copied between processes. One agent
    runs as in ``SequentialTrainer``.
    """

    default_config = PARALLEL_TRAINER_DEFAULT_CONFIG
    _executor: Optional[concurrent.futures.ThreadPoolExecutor] = None

    def _run(self, training: bool) -> None:
        if self.num_simultaneous_agents == 1:
            super()._run(training)
            return
        with concurrent.futures.ThreadPoolExecutor(self.num_simultaneous_agents, thread_name_prefix="skrl-agent") as pool:
            self._executor = pool
            try:
                super()._run(training)
            finally:
                self._executor = None

    def _map_agents(self, function: Callable[[Any, Optional[tuple[int, int]]], Any], scoped: list) -> list:
        if self._executor is None:
            return super()._map_agents(function, scoped)
        context = self._thread_context()

        def run(item: tuple) -> Any:
            with context():
                return function(*item)

        return list(self._executor.map(run, scoped))


class StepTrainerCore(TrainerCore):
    """Run one interaction step per ``train()``/``eval()`` call, for loops driven by the caller."""

    default_config = STEP_TRAINER_DEFAULT_CONFIG
    initializes_agents = True

    def __init__(self, env: Any, agents: Any, agents_scope: Optional[Sequence[int]] = None,
                 cfg: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(env, agents, agents_scope, cfg)
        self._timestep = 0
        self._progress: Optional[tqdm.tqdm] = None
        self.states = None

    def _step(self, training: bool, timestep: Optional[int], timesteps: Optional[int]) -> tuple:
        if timestep is None:
            self._timestep += 1
            timestep = self._timestep
        timesteps = self.timesteps if timesteps is None else timesteps
        if self._progress is None:
            self._progress = tqdm.tqdm(total=timesteps, disable=self.disable_progressbar, file=sys.stdout)
        self._progress.update(n=1)
        self._set_running_mode(training)
        if self.states is None:
            with self._no_grad():
                self.states = self._reset_env()
        self.states, outputs = self._interact(self.states, timestep, timesteps, training)
        return outputs

    def train(self, timestep: Optional[int] = None, timesteps: Optional[int] = None) -> tuple:
        """One training step; return ``(next_states, rewards, terminated, truncated, infos)``.

        ``timestep=None`` uses an internal counter incremented before use (the first call gets 1, as in skrl 1.4.3);
        ``timesteps=None`` uses ``cfg["timesteps"]``.
        """
        return self._step(True, timestep, timesteps)

    def eval(self, timestep: Optional[int] = None, timesteps: Optional[int] = None) -> tuple:
        """One evaluation step; same arguments and return value as ``train``."""
        return self._step(False, timestep, timesteps)

    def close(self) -> None:
        """Close the progress bar and the agents (flushing their writers)."""
        if self._progress is not None:
            self._progress.close()
        self._close_agents()
