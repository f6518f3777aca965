"""The Runner, written once for both backends: models, memory, agent and trainer from one config.

The backend is a name: every class comes from ``skrl.<area>.<backend>`` through the allowlist of
``skrl.common.runner_config``, so this module imports no framework. ``skrl.utils.runner.torch.Runner`` and
``skrl.utils.runner.jax.Runner`` fix the backend; ``skrl.utils.runner.Runner`` takes it from the config's
``backend`` key (or from the wrapper the env already has).
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, Mapping, Optional

from skrl._logging import logger
from skrl.common.env_wrappers import MultiAgentEnvWrapperBase
from skrl.common.runner_config import (
    BACKENDS,
    RunnerConfigError,
    agent_default_config,
    check_layout,
    load_yaml_config,
    process_agent_config,
    resolve_component,
)

__all__ = ["Runner"]

_RUN_MODES = ("train", "eval")


def _wrapper_backend(env: Any) -> Optional[str]:
    """The backend of a skrl wrapper (``skrl.envs.wrappers.<backend>``), or None for an unwrapped env."""
    module = type(env).__module__
    for backend in BACKENDS:
        if module == f"skrl.envs.wrappers.{backend}":
            return backend
    return None


class Runner:
    """Build and run a single-agent setup from a config in the Isaac Lab YAML layout (see ``runner_config``).

    Args:
        env: the environment, wrapped for the backend (``wrap_env``) or not (it is then wrapped with
            ``wrap_env(env)``, auto-detected).
        cfg: the config dict (e.g. from ``Runner.load_cfg_from_yaml``); it is not modified.

    Raises:
        RunnerConfigError: the config is malformed, names a class outside the allowlist or asks for another
            backend than this Runner's.
    """

    #: the backend this Runner builds for; None: the config's ``backend`` key (or the env's wrapper) decides
    backend: Optional[str] = None

    def __init__(self, env: Any, cfg: Mapping[str, Any]) -> None:
        check_layout(cfg)
        self._cfg = copy.deepcopy(dict(cfg))
        self._backend = self._select_backend(env, self._cfg.get("backend"))
        self._env = self._wrap(env)
        from skrl.utils import set_seed

        set_seed(self._cfg.get("seed"))
        agent_name, self._agent_cfg = process_agent_config(
            self._cfg["agent"], self._backend, self._env.observation_space, self._env.device,
            getattr(self._env, "amp_observation_space", None))
        self._models = self._build_models(self._cfg["models"] or {})
        self._memory = self._build_memory(self._cfg.get("memory") or {}, agent_name)
        self._agent = self._build_agent(agent_name)
        self._trainer = self._build_trainer(self._cfg["trainer"] or {})

    @staticmethod
    def load_cfg_from_yaml(path: str) -> dict:
        """Read a config file with ``yaml.safe_load``: plain YAML only, nothing in it is evaluated.

        Raises:
            RunnerConfigError: the file uses Python tags (``!!python/object``...), is invalid YAML or not a mapping.
        """
        return load_yaml_config(path)

    # ---- properties ----------------------------------------------------------------------------------------

    @property
    def agent(self) -> Any:
        """The agent built from the ``agent`` section."""
        return self._agent

    @property
    def trainer(self) -> Any:
        """The trainer built from the ``trainer`` section."""
        return self._trainer

    @property
    def models(self) -> dict:
        """The models by role (one shared object for all roles when ``models.separate`` is False on torch)."""
        return self._models

    @property
    def memory(self) -> Any:
        """The agent's memory."""
        return self._memory

    @property
    def env(self) -> Any:
        """The wrapped environment."""
        return self._env

    def run(self, mode: str = "train") -> None:
        """Train (``"train"``) or evaluate (``"eval"``) with the trainer.

        Raises:
            ValueError: ``mode`` is neither.
        """
        if mode not in _RUN_MODES:
            raise ValueError(f"Invalid `mode`: expected one of {', '.join(_RUN_MODES)}. Received: mode={mode!r}")
        getattr(self._trainer, mode)()

    # ---- building ------------------------------------------------------------------------------------------

    def _select_backend(self, env: Any, requested: Optional[str]) -> str:
        wrapped = _wrapper_backend(env)
        backend = self.backend or requested or wrapped
        if backend is None:
            raise RunnerConfigError("The Runner needs a backend: set `backend: torch` or `backend: jax` in the config, "
                                    "or use skrl.utils.runner.torch.Runner / skrl.utils.runner.jax.Runner")
        if requested is not None and requested != backend:
            raise RunnerConfigError(f"The config asks for backend {requested!r}, but this is the {backend} Runner: "
                                    f"use skrl.utils.runner.{requested}.Runner (or skrl.utils.runner.Runner)")
        if wrapped is not None and wrapped != backend:
            raise RunnerConfigError(f"The environment is wrapped for {wrapped}, but the Runner builds for {backend}: "
                                    f"wrap it with skrl.envs.wrappers.{backend}.wrap_env, or pass it unwrapped")
        return backend

    def _wrap(self, env: Any) -> Any:
        if _wrapper_backend(env) is None:
            env = importlib.import_module(f"skrl.envs.wrappers.{self._backend}").wrap_env(env)
        if isinstance(env, MultiAgentEnvWrapperBase):
            raise RunnerConfigError(f"The Runner builds single-agent setups; {type(env).__name__} wraps a "
                                    "multi-agent environment")
        return env

    def _build_models(self, models_cfg: Mapping[str, Any]) -> dict:
        roles = {role: dict(spec or {}) for role, spec in models_cfg.items() if role != "separate"}
        if not roles:
            raise RunnerConfigError("The `models` section defines no model: expected roles such as `policy` and `value`")
        for role, spec in roles.items():
            if "class" not in spec:
                raise RunnerConfigError(f"models.{role} needs a `class` (e.g. GaussianMixin, DeterministicMixin)")
        separate = models_cfg.get("separate", True)
        if not separate and len(roles) > 1 and self._backend == "jax":
            logger.warning("models.separate is False, but JAX agents take separate models: building one per role")
            separate = True
        spaces = {"observation_space": self._env.observation_space, "action_space": self._env.action_space,
                  "device": self._env.device}
        if not separate and len(roles) > 1:
            shared = self._shared_model(roles, spaces)
            models = {role: shared for role in roles}
        else:
            models = {}
            for role, spec in roles.items():
                instantiator = resolve_component("model", spec.pop("class"), self._backend, f"models.{role}.class")
                models[role] = instantiator(**spaces, **spec)
        for role, model in models.items():
            model.init_state_dict(role)
        return models

    def _shared_model(self, roles: Mapping[str, dict], spaces: Mapping[str, Any]) -> Any:
        structure = []
        for role, spec in roles.items():
            resolve_component("model", spec["class"], self._backend, f"models.{role}.class")
            structure.append(spec.pop("class"))
        instantiators = importlib.import_module(f"skrl.utils.model_instantiators.{self._backend}")
        return instantiators.shared_model(**spaces, structure=structure, roles=list(roles),
                                          parameters=list(roles.values()))

    def _build_memory(self, memory_cfg: Mapping[str, Any], agent_name: str) -> Any:
        cfg = dict(memory_cfg)
        memory_class = resolve_component("memory", cfg.pop("class", "RandomMemory"), self._backend, "memory.class")
        size = cfg.pop("memory_size", -1)
        if size == -1:
            defaults = agent_default_config(agent_name, self._backend)
            size = self._agent_cfg.get("rollouts", defaults.get("rollouts"))
            if size is None:
                raise RunnerConfigError(f"memory.memory_size is -1 (the agent's rollouts), but {agent_name} has no "
                                        "`rollouts`: set memory.memory_size")
        return memory_class(memory_size=size, num_envs=self._env.num_envs, device=self._env.device, **cfg)

    def _build_agent(self, agent_name: str) -> Any:
        agent_class = resolve_component("agent", agent_name, self._backend, "agent.class")
        return agent_class(models=self._models, memory=self._memory, observation_space=self._env.observation_space,
                           action_space=self._env.action_space, device=self._env.device, cfg=self._agent_cfg)

    def _build_trainer(self, trainer_cfg: Mapping[str, Any]) -> Any:
        cfg = dict(trainer_cfg)
        trainer_class = resolve_component("trainer", cfg.pop("class", "SequentialTrainer"), self._backend,
                                          "trainer.class")
        return trainer_class(env=self._env, agents=self._agent, cfg=cfg)
