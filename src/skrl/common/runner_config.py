"""Backend-free part of the Runner's config handling: safe YAML loading, the layout check, the allowlist of classes
a config may name, and the rewriting of an agent section into the config dict the agent takes.

A config (the Isaac Lab YAML layout)::

    seed: 42
    backend: torch            # or jax (optional with a backend's Runner)
    models:
      separate: False         # torch: one shared policy/value model
      policy: {class: GaussianMixin, network: [...], output: ACTIONS}
      value: {class: DeterministicMixin, network: [...], output: ONE}
    memory: {class: RandomMemory, memory_size: -1}   # -1: the agent's rollouts
    agent: {class: PPO, rollouts: 16, state_preprocessor: RunningStandardScaler, ...}
    trainer: {class: SequentialTrainer, timesteps: 1000}

Every ``class`` (and every preprocessor, scheduler or noise) is a *name* looked up in ``COMPONENTS``; nothing in the
file is evaluated. Classes are imported lazily from ``skrl.<area>.<backend>``, so agents added to skrl later are
picked up by name once their module exists.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, Callable, Mapping, Optional

from skrl.common.config_merge import suggest_key

__all__ = [
    "BACKENDS",
    "COMPONENTS",
    "RunnerConfigError",
    "check_layout",
    "load_yaml_config",
    "process_agent_config",
    "resolve_component",
]

BACKENDS = ("torch", "jax")
TOP_LEVEL_KEYS = ("seed", "backend", "models", "memory", "agent", "trainer")
REQUIRED_KEYS = ("models", "agent", "trainer")

_AGENT_MODULES = {
    "A2C": "a2c", "A2C_RNN": "a2c", "AMP": "amp", "CEM": "cem", "DDPG": "ddpg", "DDPG_RNN": "ddpg", "DQN": "dqn",
    "DDQN": "dqn", "PPO": "ppo", "PPO_RNN": "ppo", "Q_LEARNING": "q_learning", "RPO": "rpo", "RPO_RNN": "rpo",
    "SAC": "sac", "SAC_RNN": "sac", "SARSA": "sarsa", "TD3": "td3", "TD3_RNN": "td3", "TRPO": "trpo", "TRPO_RNN": "trpo",
}

#: kind -> {name: (module under ``skrl`` with ``{backend}``, attribute)}; the only names a config may use
COMPONENTS: dict[str, dict[str, tuple[str, str]]] = {
    "agent": {name: (f"agents.{{backend}}.{module}", name) for name, module in _AGENT_MODULES.items()},
    "model": {
        "GaussianMixin": ("utils.model_instantiators.{backend}", "gaussian_model"),
        "DeterministicMixin": ("utils.model_instantiators.{backend}", "deterministic_model"),
        "CategoricalMixin": ("utils.model_instantiators.{backend}", "categorical_model"),
        "MultiCategoricalMixin": ("utils.model_instantiators.{backend}", "multicategorical_model"),
        "MultivariateGaussianMixin": ("utils.model_instantiators.{backend}", "multivariate_gaussian_model"),
    },
    "memory": {"RandomMemory": ("memories.{backend}", "RandomMemory")},
    "preprocessor": {"RunningStandardScaler": ("resources.preprocessors.{backend}", "RunningStandardScaler")},
    "scheduler": {
        "KLAdaptiveLR": ("resources.schedulers.{backend}", "KLAdaptiveLR"),
        "KLAdaptiveRL": ("resources.schedulers.{backend}", "KLAdaptiveRL"),
    },
    "noise": {
        "GaussianNoise": ("resources.noises.{backend}", "GaussianNoise"),
        "OrnsteinUhlenbeckNoise": ("resources.noises.{backend}", "OrnsteinUhlenbeckNoise"),
    },
    "trainer": {
        "SequentialTrainer": ("trainers.{backend}", "SequentialTrainer"),
        "ParallelTrainer": ("trainers.{backend}", "ParallelTrainer"),
        "StepTrainer": ("trainers.{backend}", "StepTrainer"),
    },
}

#: agent config keys naming a class, and the kind of class they name
_CLASS_KEYS = {
    "state_preprocessor": "preprocessor", "value_preprocessor": "preprocessor", "amp_state_preprocessor": "preprocessor",
    "learning_rate_scheduler": "scheduler", "policy_learning_rate_scheduler": "scheduler",
    "critic_learning_rate_scheduler": "scheduler",
}
#: agent config keys naming a noise that the Runner instantiates with its ``<key>_kwargs``
_NOISE_KEYS = ("noise", "smooth_regularization_noise")


class RunnerConfigError(ValueError):
    """A Runner config is malformed, unsafe or names a class outside the allowlist; the message says where and
    what is allowed."""


def load_yaml_config(path: str) -> dict:
    """Read a Runner config from a YAML file with ``yaml.safe_load`` (no Python tags, nothing executed).

    Raises:
        FileNotFoundError: no such file.
        RunnerConfigError: the file is not plain YAML (e.g. a ``!!python/object`` tag) or not a mapping.
    """
    import yaml

    with open(path, encoding="utf-8") as file:
        try:
            cfg = yaml.safe_load(file)
        except yaml.constructor.ConstructorError as e:
            raise RunnerConfigError(f"Refused to load {path!r}: it uses a YAML tag that only an unsafe loader could "
                                    f"build ({e.problem}, {e.problem_mark}). Runner configs are plain YAML: "
                                    "name classes as strings, e.g. `class: PPO`") from None
        except yaml.YAMLError as e:
            raise RunnerConfigError(f"Invalid YAML in {path!r}: {e}") from None
    if not isinstance(cfg, Mapping):
        raise RunnerConfigError(f"Invalid Runner config {path!r}: expected a mapping with the keys "
                                f"{', '.join(TOP_LEVEL_KEYS)}. Received: {type(cfg).__name__}")
    return dict(cfg)


def check_layout(cfg: Any) -> None:
    """Check the sections of a Runner config (known and required keys; mappings where mappings belong).

    Raises:
        RunnerConfigError: a section is missing, unknown (with the closest known key) or not a mapping.
    """
    if not isinstance(cfg, Mapping):
        raise RunnerConfigError(f"Invalid Runner config: expected a dict. Received: {type(cfg).__name__}")
    for key in cfg:
        if key not in TOP_LEVEL_KEYS:
            raise RunnerConfigError(f"Unknown key {key!r} in the Runner config{suggest_key(key, TOP_LEVEL_KEYS)}. "
                                    f"Allowed keys: {', '.join(TOP_LEVEL_KEYS)}")
    missing = [key for key in REQUIRED_KEYS if key not in cfg]
    if missing:
        raise RunnerConfigError(f"The Runner config lacks the section(s) {', '.join(missing)} "
                                f"(expected {', '.join(REQUIRED_KEYS)}, and optionally memory, seed, backend)")
    for key in ("models", "memory", "agent", "trainer"):
        if key in cfg and cfg[key] is not None and not isinstance(cfg[key], Mapping):
            raise RunnerConfigError(f"Invalid `{key}` section: expected a mapping. Received: {cfg[key]!r}")
    if "backend" in cfg and cfg["backend"] not in BACKENDS:
        raise RunnerConfigError(f"Invalid `backend`: expected one of {', '.join(BACKENDS)}. "
                                f"Received: backend={cfg['backend']!r}")


def _lookup(kind: str, name: Any, where: str) -> tuple[str, tuple[str, str]]:
    table = COMPONENTS[kind]
    if isinstance(name, str):
        folded = {key.lower(): key for key in table}
        key = folded.get(name.strip().lower())
        if key is not None:
            return key, table[key]
    raise RunnerConfigError(f"Unknown {kind} class {name!r} in {where}{suggest_key(name, table)}. "
                            f"Allowed: {', '.join(table)}")


def resolve_component(kind: str, name: Any, backend: str, where: str) -> Any:
    """The class (or model instantiator function) named ``name`` (case-insensitive) for ``backend``.

    Raises:
        RunnerConfigError: the name is not in the allowlist, or this installation lacks it on ``backend``.
    """
    key, (module_path, attribute) = _lookup(kind, name, where)
    module_name = f"skrl.{module_path.format(backend=backend)}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("skrl"):
            raise
        raise RunnerConfigError(f"The {kind} {key!r} ({where}) is not available on the {backend} backend: "
                                f"this installation has no module {module_name}") from None
    if not hasattr(module, attribute):
        raise RunnerConfigError(f"The {kind} {key!r} ({where}) is not available on the {backend} backend "
                                f"({module_name} has no {attribute})")
    return getattr(module, attribute)


def agent_default_config(agent_name: str, backend: str) -> dict:
    """The ``<NAME>_DEFAULT_CONFIG`` of an allowlisted agent (RNN variants share their base agent's)."""
    key, (module_path, _) = _lookup("agent", agent_name, "agent.class")
    module = importlib.import_module(f"skrl.{module_path.format(backend=backend)}")
    base = key[: -len("_RNN")] if key.endswith("_RNN") else key
    return copy.deepcopy(getattr(module, f"{base}_DEFAULT_CONFIG", {}))


def _scale_rewards(scale: float) -> Callable[..., Any]:
    def rewards_shaper(rewards: Any, *args: Any, **kwargs: Any) -> Any:
        return rewards * scale

    return rewards_shaper


def _process_section(section: dict, backend: str, where: str, sizes: Mapping[str, Any], device: Any) -> None:
    """Rewrite one (nested) agent config section in place: names to classes, noises instantiated."""
    for key in list(section):
        value = section[key]
        if key.endswith("_kwargs") and value is None:
            section[key] = {}
        elif isinstance(value, dict) and not key.endswith("_kwargs"):
            _process_section(value, backend, f"{where}.{key}", sizes, device)
        elif key in _CLASS_KEYS:
            section[key] = None if value in (None, "") else resolve_component(_CLASS_KEYS[key], value, backend, f"{where}.{key}")
            kwargs = section.setdefault(f"{key}_kwargs", {}) or {}
            section[f"{key}_kwargs"] = kwargs
            if key in sizes and section[key] is not None:
                kwargs.setdefault("size", sizes[key])
                kwargs.setdefault("device", device)
        elif key in _NOISE_KEYS and isinstance(value, str):
            noise = resolve_component("noise", value, backend, f"{where}.{key}")
            kwargs = section.pop(f"{key}_kwargs", None) or {}
            section[key] = noise(**{"device": device, **kwargs})
    if "rewards_shaper_scale" in section:
        scale = section.pop("rewards_shaper_scale")
        section["rewards_shaper"] = None if scale is None else _scale_rewards(float(scale))


def process_agent_config(agent_cfg: Mapping[str, Any], backend: str, observation_space: Any, device: Any,
                         amp_observation_space: Optional[Any] = None) -> tuple[str, dict]:
    """Split an ``agent`` section into the agent's class name and the config dict the agent takes.

    Preprocessor and scheduler names become classes (preprocessors get ``size`` and ``device`` in their kwargs,
    as skrl's Runner gives them: the observation space for states, 1 for values), noises are instantiated with
    their ``<key>_kwargs``, ``rewards_shaper_scale: s`` becomes a ``rewards_shaper`` multiplying rewards by ``s``,
    and ``<key>_kwargs: null`` becomes ``{}``.

    Raises:
        RunnerConfigError: the section has no ``class`` or names a class outside the allowlist.
    """
    cfg = copy.deepcopy(dict(agent_cfg or {}))
    name = cfg.pop("class", None)
    if name is None:
        raise RunnerConfigError(f"The `agent` section needs a `class` (one of {', '.join(COMPONENTS['agent'])})")
    _lookup("agent", name, "agent.class")
    sizes = {"state_preprocessor": observation_space, "value_preprocessor": 1}
    if amp_observation_space is not None:
        sizes["amp_state_preprocessor"] = amp_observation_space
    _process_section(cfg, backend, "agent", sizes, device)
    return name, cfg
