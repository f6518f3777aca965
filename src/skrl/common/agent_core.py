"""The agent core, written once for both backends: config, run directory, tracking, checkpoints, save/load.

A backend subclass (``skrl.torch.agent_base.Agent`` / ``skrl.jax.agent_base.Agent``) supplies a few
``_``-prefixed hooks: device parsing, module state extraction/assignment, array fetching and file I/O.
Algorithms (PPO, ...) subclass the backend class and implement ``act``, ``record_transition`` and
``_update``.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

import numpy as np

from skrl._logging import logger
from skrl.common import background_writer
from skrl.common.agent_resume import AGENT_STATE_KEY, AgentResumeMixin
from skrl.common.atomic_files import remove_stale_temporaries
from skrl.common.checkpoint_policy import (
    CHECKPOINTS_SUBDIR,
    BestModelRecord,
    checkpoint_paths,
    checkpoint_tag,
    interval_fires,
)
from skrl.common.config_merge import deep_merge
from skrl.common.errors import CheckpointFileError, CheckpointMismatchError
from skrl.common.experiment import EXPERIMENT_DEFAULT_CONFIG, ExperimentConfig, resolve_experiment_dir, resolve_interval
from skrl.common.migration import AgentMigrationMixin
from skrl.common.run_manifest import (
    build_manifest,
    encode_manifest,
    record_checkpoint,
    write_manifest,
    write_manifest_bytes,
)
from skrl.common.tracking import (
    STATISTICS_BLOCK_STEPS,
    TOTAL_REWARD_MEAN,
    TensorBoardSink,
    TrackingBuffer,
    episode_statistics_scalars,
    merge_episode_statistics,
    reset_interval,
    write_to_sinks,
)

AGENT_DEFAULT_CONFIG: dict[str, Any] = {"experiment": EXPERIMENT_DEFAULT_CONFIG}

#: checkpoint entry holding the memory's contents, with ``experiment.checkpoint_memory`` (restored by ``load``)
MEMORY_STATE_KEY = "memory"
AGENT_STATE_FORMAT = 1


class AgentCore(AgentResumeMixin, AgentMigrationMixin):
    """Base of every agent: holds models, memory and the experiment data layer (tracking and checkpoints)."""

    #: the agent's default config (a plain dict); algorithms override it
    default_config: Mapping[str, Any] = AGENT_DEFAULT_CONFIG
    #: config keys whose value is free-form (kwargs dicts): replaced, not merged or key-checked
    open_config_keys: tuple = ("wandb_kwargs",)
    #: backend-only keys this backend accepts and ignores (with a warning when set to a non-default value)
    ignored_config_keys: tuple = ()

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Optional[Mapping[str, Any]] = None) -> None:
        self.models = {role: model for role, model in (models or {}).items() if model is not None}
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = self._parse_device(device)
        if isinstance(memory, (list, tuple)):
            self.memory = memory[0] if memory else None
            self.secondary_memories = list(memory[1:])
        else:
            self.memory, self.secondary_memories = memory, []

        self.cfg = self._merge_config(cfg)
        experiment = ExperimentConfig.from_dict(self.cfg["experiment"])
        self._experiment = experiment
        self.experiment_dir = resolve_experiment_dir(experiment, type(self).__name__)
        self.write_interval: Any = experiment.write_interval
        self.checkpoint_interval: Any = experiment.checkpoint_interval
        self.checkpoint_store_separately = experiment.store_separately

        self.checkpoint_modules: dict[str, Any] = {}
        self.tracking_data = TrackingBuffer()
        self.training = True
        self.resume_timestep = 0
        self._best = BestModelRecord()
        self._tensorboard = TensorBoardSink(self.experiment_dir)
        self._sinks: list[Any] = []
        self._episode_stats: Any = None
        self._pending_steps: Any = self._new_pending_steps()  # per-step snapshots not yet folded into the stats
        self._last_checkpoint: Optional[int] = None
        self._last_total_reward: Optional[float] = None
        self._manifest: Optional[dict] = None
        self._initialized = False

    # ---- config -----------------------------------------------------------------------------------------

    def _merge_config(self, cfg: Optional[Mapping[str, Any]]) -> dict:
        where = f"{type(self).__name__} cfg"
        open_keys = tuple(self.open_config_keys) + tuple(k for k in self.default_config if k.endswith("_kwargs"))
        merged = deep_merge(self.default_config, cfg, where=where, open_keys=open_keys)
        for key in self.ignored_config_keys:
            if cfg and key in cfg and cfg[key] != self.default_config.get(key):
                logger.warning(f"{where}: {key!r} has no effect on this backend and is ignored")
        return merged

    # ---- lifecycle ----------------------------------------------------------------------------------------

    def init(self, trainer_cfg: Optional[Mapping[str, Any]] = None) -> None:
        """Resolve ``"auto"`` intervals from the trainer's ``timesteps`` and prepare the run directory."""
        trainer_cfg = trainer_cfg or {}
        for memory in (self.memory, *self.secondary_memories):
            if hasattr(memory, "attach_to_experiment"):  # exports default to <experiment_dir>/memories
                memory.attach_to_experiment(self.experiment_dir)
        timesteps = trainer_cfg.get("timesteps", 0)
        self.write_interval = resolve_interval(self.write_interval, timesteps, 100)
        self.checkpoint_interval = resolve_interval(self.checkpoint_interval, timesteps, 10)
        if self._world_size() > 1:
            self._broadcast_models()
        if not self._is_main_process:  # ranks > 0 keep the intervals (statistics are reduced over every rank) but
            self._initialized = True  # write nothing: no writer, W&B run, checkpoint or manifest
            return
        self._sinks = [self._tensorboard] if self.write_interval > 0 else []
        if self._experiment.wandb:
            from skrl.common.wandb_sink import WandbSink

            wandb_sink = WandbSink.start(self, trainer_cfg)
            self._tensorboard.mirror_to(wandb_sink.log_scalar)  # scalars users add to ``agent.writer`` reach W&B too
            self._sinks.append(wandb_sink)
        if self.checkpoint_interval > 0:
            directory = os.path.join(self.experiment_dir, CHECKPOINTS_SUBDIR)
            os.makedirs(directory, exist_ok=True)
            remove_stale_temporaries(directory)
        if self.checkpoint_interval > 0 or self.write_interval > 0:
            from skrl.utils._seeding import LAST_SEED

            self._manifest = build_manifest(self._backend_name, self, trainer_cfg, LAST_SEED)
            write_manifest(self.experiment_dir, self._manifest)
        self._initialized = True

    def record_environment(self, env: Any) -> None:
        """Note the environment's id and size in the run manifest (the trainer calls this after ``init``)."""
        if self._manifest is None:
            return
        spec = getattr(env, "spec", None)
        self._manifest["environment"] = {"id": getattr(spec, "id", None), "num_envs": getattr(env, "num_envs", None)}
        write_manifest(self.experiment_dir, self._manifest)

    def _backend_config(self) -> Any:
        """This backend's section of ``skrl.config`` (``config.torch`` or ``config.jax``): devices and the process
        topology; None for a backend-less agent (tests)."""
        if not self._backend_name:
            return None
        from skrl import config

        return getattr(config, self._backend_name)

    def _distributed_rank(self) -> int:
        topology = self._backend_config()
        return topology.rank if topology is not None and topology.is_distributed else 0

    def _world_size(self) -> int:
        topology = self._backend_config()
        return topology.world_size if topology is not None and topology.is_distributed else 1

    @property
    def _is_main_process(self) -> bool:
        return self._distributed_rank() == 0

    def _broadcast_models(self) -> None:
        """Start every process from rank 0's parameters."""
        for model in {id(m): m for m in self.models.values()}.values():
            model.broadcast_parameters(0)

    @property
    def writer(self) -> Any:
        """The tensorboardX ``SummaryWriter`` of this run (created on first access) for direct ``add_scalar`` calls."""
        return self._tensorboard.writer

    def close(self) -> None:
        """Finish pending checkpoint writes, flush and close the tracking sinks (idempotent; trainers call it)."""
        background_writer.wait()
        for sink in [self._tensorboard, *self._sinks]:
            sink.close()

    def __str__(self) -> str:
        lines = [f"Agent: {type(self).__name__}", f"  |-- experiment_dir: {self.experiment_dir}"]
        lines += [f"  |-- {role}: {type(model).__name__}" for role, model in self.models.items()]
        return "\n".join(lines)

    # ---- modes ----------------------------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Put every model in ``"train"`` or ``"eval"`` mode."""
        for model in self.models.values():
            model.set_mode(mode)

    def set_running_mode(self, mode: str) -> None:
        """``"train"`` or ``"eval"``: in eval the agent neither learns, stores transitions nor writes checkpoints."""
        if mode not in ("train", "eval"):
            raise ValueError(f"Invalid running mode: expected 'train' or 'eval'. Received: mode={mode!r}")
        self.training = mode == "train"

    # ---- interaction ----------------------------------------------------------------------------------------

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement act()")

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """Called by the trainer before each env step."""

    def track_data(self, tag: str, value: Any) -> None:
        """Record ``value`` (a number or a device scalar, not converted now) under ``tag`` for the next write."""
        if self._tracking_enabled:
            self.tracking_data.record(tag, value)

    @property
    def _tracking_enabled(self) -> bool:
        return isinstance(self.write_interval, int) and self.write_interval > 0

    @property
    def _statistics_enabled(self) -> bool:
        return self._tracking_enabled or (isinstance(self.checkpoint_interval, int) and self.checkpoint_interval > 0)

    def record_transition(self, states: Any, actions: Any, rewards: Any, next_states: Any, terminated: Any,
                          truncated: Any, infos: Any, timestep: int, timesteps: int) -> None:
        """Accumulate episode statistics on the device (no host sync); algorithms then store the transition."""
        if not self._initialized:
            raise RuntimeError(f"{type(self).__name__}.init(trainer_cfg) must be called before record_transition() "
                               "(the trainers call it in their constructor)")
        if self._statistics_enabled:
            pending = self._pending_steps
            pending.append(self._stats_snapshot(rewards, terminated, truncated))
            if len(pending) >= getattr(pending, "capacity", STATISTICS_BLOCK_STEPS):
                self._fold_pending_steps()

    def _fold_pending_steps(self) -> None:
        """Fold the steps recorded since the last fold into the episode statistics, in one block update.

        Steps are folded in blocks because one update of ``STATISTICS_BLOCK_STEPS`` steps costs about as much as one
        per-step update; whoever reads ``_episode_stats`` folds first.
        """
        if not len(self._pending_steps):
            return
        if self._episode_stats is None:
            self._episode_stats = self._stats_init(self._pending_steps[0][0])
        self._episode_stats = self._stats_fold(self._episode_stats, self._pending_steps)
        self._pending_steps = self._new_pending_steps()

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Write tracking data and checkpoints at their intervals (``timestep`` is 0-based; files use ``timestep + 1``)."""
        step = timestep + 1
        write = interval_fires(self.write_interval, timestep)
        checkpoint = self.training and interval_fires(self.checkpoint_interval, timestep)
        if write or (checkpoint and not self._tracking_enabled):
            self.write_tracking_data(step, timesteps)
        if checkpoint:
            self.write_checkpoint(step, timesteps)

    # ---- tracking ------------------------------------------------------------------------------------------

    def write_tracking_data(self, timestep: int, timesteps: int) -> dict[str, float]:
        """Aggregate everything tracked since the last write, update the best model and write to the sinks."""
        scalars: dict[str, float] = {}
        self._fold_pending_steps()
        host = self._fetch_tree(self._episode_stats) if self._episode_stats is not None else {}
        if self._world_size() > 1:  # every rank takes part, in step: the episodes of every rank are written
            shared = {key: value for key, value in host.items() if not key.startswith("cum_")}  # per-env: kept local
            host = merge_episode_statistics(host, self._all_gather_host(shared))
        if host:
            scalars.update(episode_statistics_scalars(host))
        if self._episode_stats is not None:
            self._episode_stats = reset_interval(self._episode_stats, self._stats_init(None, like=self._episode_stats))
        scalars.update(self.tracking_data.drain(self._fetch_many))
        if TOTAL_REWARD_MEAN in scalars:
            self._last_total_reward = scalars[TOTAL_REWARD_MEAN]
        self._consider_best(timestep, scalars.get(TOTAL_REWARD_MEAN))
        if self._tracking_enabled:
            write_to_sinks(self._sinks, scalars, timestep)
        return scalars

    def _consider_best(self, timestep: int, reward: Optional[float]) -> None:
        if self.training and self._is_main_process and self.checkpoint_interval and self.checkpoint_interval > 0 \
                and self._best.policy.is_improvement(reward):
            self._best.update(timestep, float(reward), self._best_snapshot())

    # ---- checkpoints ---------------------------------------------------------------------------------------

    def _module_states(self) -> dict[str, Any]:
        return {name: self._module_state(module) for name, module in self.checkpoint_modules.items()}

    def _host_state(self) -> dict[str, Any]:
        return {name: self._to_host(state) for name, state in self._module_states().items()}

    def _best_snapshot(self) -> dict[str, Any]:
        """The module states at an improvement, kept until the next checkpoint writes them (a backend may keep
        references to immutable device arrays here and fetch them in ``_best_for_writing``)."""
        return self._host_state()

    def _best_for_writing(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return snapshot

    def _write_group(self, states: Mapping[str, Any], tag: str, best: bool) -> list[str]:
        paths = checkpoint_paths(self.experiment_dir, tag, list(states), self.checkpoint_store_separately,
                                 self._checkpoint_extension, best=best)
        for module, path in paths.items():
            self._write_state(dict(states) if module is None else states[module], path, background=True)
        return [os.path.relpath(path, self.experiment_dir) for path in paths.values()]

    def write_checkpoint(self, timestep: Optional[int], timesteps: int) -> None:
        """Write ``agent_<t>`` (or one ``<module>_<t>`` per module) and, if it improved, the best model.

        Besides the modules, the checkpoint holds an ``agent_state`` entry (timestep, counters, RNG states, episode
        statistics) so that loading it and training again continues exactly where this run was. Only rank 0 writes.
        """
        if not self._is_main_process:
            return
        states = self._checkpoint_states(timestep)
        files = self._write_group(states, checkpoint_tag(timestep), best=False)
        self._last_checkpoint = timestep
        if not self._best.saved and self._best.state is not None:
            self._write_group(self._best_for_writing(self._best.state), "", best=True)
            self._best.saved = True
        if self._manifest is not None and timestep is not None:
            best = {"timestep": self._best.timestep, "reward": self._best.reward} if self._best.state is not None else None
            record_checkpoint(self._manifest, timestep, files, self._last_total_reward, best)
            # queued after the checkpoint's files: run.json never lists a checkpoint that is not on disk yet
            background_writer.submit(write_manifest_bytes, self.experiment_dir, encode_manifest(self._manifest))

    def _checkpoint_states(self, timestep: Optional[int]) -> dict[str, Any]:
        """The modules, the resume state and (with ``checkpoint_memory``) the memory's contents."""
        states = self._module_states()
        states[AGENT_STATE_KEY] = self._encode_host_tree(self._agent_state(timestep))
        if self._experiment.checkpoint_memory:
            for key, memory in self._checkpointed_memories().items():
                if memory is not None and memory.tensors:
                    states[key] = self._encode_host_tree(memory.checkpoint_state())
        return states

    def _checkpointed_memories(self) -> dict[str, Any]:
        """The memories whose contents ``experiment.checkpoint_memory`` adds to checkpoints, by checkpoint key
        (AMP adds its motion dataset and reply buffer)."""
        return {MEMORY_STATE_KEY: self.memory}

    def on_loop_end(self, timestep: Optional[int], timesteps: int) -> None:
        """Called by the trainer when its loop ends, normally or not (Ctrl-C, error): ``timestep`` is the last
        completed 0-based timestep (None if none). Writes a final checkpoint unless that step already has one."""
        if timestep is None or not self.training or not self._initialized:
            return
        step = timestep + 1
        if isinstance(self.checkpoint_interval, int) and self.checkpoint_interval > 0 and self._last_checkpoint != step:
            self.write_checkpoint(step, timesteps)

    def save(self, path: str) -> None:
        """Write every checkpoint module (and the resume state) to ``path`` as one grouped checkpoint."""
        self._write_state(self._checkpoint_states(self._last_checkpoint), path)
        background_writer.wait()

    def load(self, path: str) -> None:
        """Load a grouped checkpoint (ours or skrl 1.4.3's) into this agent's modules, on this agent's device.

        Every module is checked against the live one first; any mismatch raises ``CheckpointMismatchError``
        listing all differences, and nothing is loaded.
        """
        background_writer.wait()  # a checkpoint this process is still writing must be complete first
        states = self._read_state(path)
        if not isinstance(states, Mapping):
            raise CheckpointFileError(f"{path!r} is not an agent checkpoint: expected a dict of module states, "
                                      f"got {type(states).__name__}")
        problems, plan = [], []
        agent_state = states.get(AGENT_STATE_KEY)
        memories = {MEMORY_STATE_KEY: self.memory, **self._checkpointed_memories()}
        memory_states = {key: self._memory_state_to_load(memories[key], key, states.get(key), path, problems)
                         for key in memories}
        for name, state in states.items():
            if name == AGENT_STATE_KEY or name in memories:
                continue
            module = self.checkpoint_modules.get(name)
            if module is None:
                logger.warning(f"Skipping module {name!r} of the checkpoint: the agent doesn't have such an instance")
                continue
            state = self._decode_state(name, module, state)
            problems += [f"[{name}] {line}" for line in self._state_differences(module, state)]
            plan.append((name, module, state))
        if problems:
            raise CheckpointMismatchError(f"The checkpoint {path!r} does not match the agent "
                                          "(was it written for another architecture?):\n  " + "\n  ".join(problems))
        missing = [n for n in self.checkpoint_modules if n not in states]
        if missing:
            logger.warning(f"The checkpoint {path!r} has no state for: {', '.join(missing)} (left unchanged)")
        for name, module, state in plan:
            self._replace_module(name, module, self._load_module_state(module, state))
        for key, memory_state in memory_states.items():
            if memory_state is not None:
                memories[key].restore_checkpoint_state(memory_state, path)
        if agent_state is not None:
            self._restore_agent_state(self._decode_host_tree(agent_state))
        self.set_mode("eval")

    def _memory_state_to_load(self, memory: Any, key: str, state: Any, path: str, problems: list) -> Any:
        if state is None:
            return None
        if memory is None:
            logger.warning(f"The checkpoint {path!r} holds {key!r} contents, but the agent has no such memory: skipped")
            return None
        state = self._decode_host_tree(state)
        problems += [f"[{key}] {line}" for line in memory.check_checkpoint_state(state, path)]
        return state

    def _replace_module(self, name: str, old: Any, new: Any) -> None:
        """Immutable modules (JAX optimizers) come back as new objects: rebind every reference to the old one."""
        if new is None or new is old:
            return
        self.checkpoint_modules[name] = new
        for attr, value in list(vars(self).items()):
            if value is old:
                setattr(self, attr, new)

    # ---- backend hooks -------------------------------------------------------------------------------------

    _checkpoint_extension: str = ""
    _backend_name: str = ""

    def _parse_device(self, device: Any) -> Any:
        if not self._backend_name:
            raise NotImplementedError
        return self._backend_config().parse_device(device)

    def _module_state(self, module: Any) -> Any:
        raise NotImplementedError

    def _to_host(self, state: Any) -> Any:
        raise NotImplementedError

    def _decode_state(self, name: str, module: Any, state: Any) -> Any:
        return state

    def _state_differences(self, module: Any, state: Any) -> list[str]:
        raise NotImplementedError

    def _load_module_state(self, module: Any, state: Any) -> Any:
        raise NotImplementedError

    def _write_state(self, state: Any, path: str, background: bool = False) -> None:
        """Write ``state``; with ``background`` the caller only pays for the host copy (see ``background_writer``)."""
        raise NotImplementedError

    def _read_state(self, path: str) -> Any:
        raise NotImplementedError

    def _fetch_many(self, values: list) -> list:
        raise NotImplementedError

    def _all_gather_host(self, tree: Mapping[str, np.ndarray]) -> list[dict]:
        """Every process's ``tree`` (a dict of NumPy arrays; empty on a rank without statistics yet)."""
        raise NotImplementedError

    def _fetch_tree(self, tree: Mapping[str, Any]) -> dict[str, np.ndarray]:
        values = list(tree.values())
        return dict(zip(tree.keys(), self._fetch_many(values)))

    def _stats_init(self, rewards: Any, like: Any = None) -> Any:
        raise NotImplementedError

    def _stats_from_host(self, host: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _backend_rng_state(self) -> dict[str, Any]:
        return {}

    def _restore_backend_rng_state(self, state: Mapping[str, Any]) -> None:
        """Restore the framework's generators (torch) or the agent's PRNG key (JAX)."""

    def _encode_host_tree(self, tree: Any) -> Any:
        """Make a tree of NumPy/Python values storable by this backend's checkpoint format."""
        return tree

    def _decode_host_tree(self, tree: Any) -> Any:
        """Inverse of ``_encode_host_tree``: NumPy arrays and Python values."""
        return tree

    def _new_pending_steps(self) -> Any:
        """An empty container for the snapshots of the next block: a list (a backend may return a
        ``tracking.HostStepBlock``, which it then folds itself)."""
        return []

    def _stats_snapshot(self, rewards: Any, terminated: Any, truncated: Any) -> tuple:
        """``(rewards, done, ...)`` of one step, safe to keep until the next fold (copies of buffers an env may
        overwrite in place), without a host sync."""
        raise NotImplementedError

    def _stats_fold(self, stats: Any, snapshots: list) -> Any:
        """``stats`` updated with the snapshots of up to ``STATISTICS_BLOCK_STEPS`` consecutive steps."""
        raise NotImplementedError
