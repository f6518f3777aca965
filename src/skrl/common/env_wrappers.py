"""Backend-free core of the environment wrappers: wrapper detection and dispatch, and the wrapper base classes.

A backend module (``skrl.envs.wrappers.torch`` / ``.jax``) subclasses the bases here, supplying only
``_create_array_ops`` (how arrays are created on its device) and ``_framework`` (its name), and passes its table
of wrapper classes to ``wrap_env``. Environments that run on another framework than the agents (Isaac on torch,
Brax and gymnax on JAX) exchange arrays through ``skrl.<framework>.interop``, loaded by name when needed.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from skrl._logging import logger
from skrl.common.spaces import HostArrayOps, SpaceArrayOps, SpaceFunctions, space_kind, unflatten_tensorized_space

#: spaces whose observations are one array: flattened on the host before the transfer
_SINGLE_LEAF_KINDS = ("box", "discrete", "multidiscrete")

__all__ = [
    "DETECTION_RULES",
    "ConvertedSpacesMixin",
    "MultiAgentEnvWrapperBase",
    "WrapperBase",
    "detect_wrapper_name",
    "environment_class_names",
    "load_framework_module",
    "wrap_env",
]

DETECTION_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("omni.isaac.lab.*", "isaaclab.*"), "isaaclab-*"),
    (("omni.isaac.gym..*",), "omniverse-isaacgym"),
    (("isaacgymenvs..*", "tasks..*.VecTask"), "isaacgym-preview4"),
    (("rlgpu.tasks..*.VecTask",), "isaacgym-preview2"),
    (("brax.envs..*",), "brax"),
    (("robosuite.environments.",), "robosuite"),
    (("dm_env..*",), "dm"),
    (("pettingzoo.utils.env", "pettingzoo.utils.wrappers"), "pettingzoo"),
    (("gymnax.environments.*",), "gymnax"),
    (("gymnasium..*",), "gymnasium"),
    (("gym..*",), "gym"),
)
"""Auto-detection table: the first rule with a pattern matching one of the env's class names wins."""

_ISAACLAB_NAMES = ("isaaclab-single-agent", "isaaclab-multi-agent")


def environment_class_names(env: Any) -> list[str]:
    """Dotted names of the classes ``env`` and ``env.unwrapped`` derive from (their whole MRO), sorted."""
    types = [type(env)]
    try:
        types.append(type(env.unwrapped))
    except Exception:
        pass
    names = {f"{cls.__module__}.{cls.__qualname__}" for t in types for cls in t.__mro__ if cls.__module__ not in ("builtins", "typing")}
    return sorted(names)


def _matches(pattern: str, name: str) -> bool:
    return pattern in name or re.match(pattern, name) is not None


def detect_wrapper_name(class_names: Sequence[str]) -> Optional[str]:
    """The wrapper name of the first ``DETECTION_RULES`` entry matching any class name, or None."""
    for patterns, wrapper in DETECTION_RULES:
        if any(_matches(p, name) for p in patterns for name in class_names):
            return wrapper
    return None


def load_framework_module(framework: str, name: str = "interop") -> Any:
    """``skrl.<framework>.<name>``, which imports the framework: e.g. ``interop`` (other frameworks' arrays as
    ``framework``'s) or ``functional_envs`` (the JAX drivers of Brax and gymnax).

    Raises:
        ImportError: the framework is not installed; the message names the pip extra.
    """
    try:
        return importlib.import_module(f"skrl.{framework}.{name}")
    except ImportError as e:
        raise ImportError(f"This environment or backend needs {framework}: install it with "
                          f"`pip install skrl[{framework}]` ({e})") from e


def _canonical_name(name: str, env: Any) -> str:
    """Map aliases to a wrapper name: Isaac Lab picks the single- or multi-agent wrapper."""
    if name.startswith("isaaclab") and name not in _ISAACLAB_NAMES:
        unwrapped = getattr(env, "unwrapped", env)
        return "isaaclab-multi-agent" if hasattr(unwrapped, "possible_agents") else "isaaclab-single-agent"
    return name


def wrap_env(env: Any, wrapper: str, verbose: bool, wrappers: Mapping[str, tuple[type, str]], **kwargs: Any) -> Any:
    """Wrap ``env`` with the class that ``wrappers`` (name -> (class, label)) holds for ``wrapper``.

    ``wrapper="auto"`` detects the name from the env's classes with ``DETECTION_RULES``. A name that the
    backend does not provide raises a ``ValueError`` listing the wrappers it supports. ``kwargs`` go to the
    wrapper's constructor (e.g. ``num_envs`` for gymnax).
    """
    supported = ", ".join(repr(name) for name in ("auto", *sorted(wrappers)))
    if not isinstance(wrapper, str):
        raise ValueError(f"Unknown wrapper type: expected a str, one of {supported}. Received: wrapper={wrapper!r}")
    name, origin = wrapper, ""
    if wrapper == "auto":
        classes = environment_class_names(env)
        if verbose:
            logger.info(f"Environment wrapper: 'auto' (class: {', '.join(classes)})")
        name = detect_wrapper_name(classes)
        if name is None:
            raise ValueError(
                f"Unknown wrapper type: no wrapper matches the environment classes ({', '.join(classes)}). "
                f"Supported wrappers: {supported}"
            )
        origin = " (detected from the environment classes)"
    canonical = _canonical_name(name, env)
    if canonical not in wrappers:
        raise ValueError(f"Unknown wrapper type: {name!r}{origin}. Supported wrappers: {supported}")
    cls, label = wrappers[canonical]
    if verbose:
        logger.info(f"Environment wrapper: {label}")
    return cls(env, **kwargs)


def _unwrapped_attribute(name: str, doc: str) -> property:
    """A read-only property forwarding to the unwrapped env's attribute ``name``."""
    return property(lambda self: getattr(self._unwrapped, name), doc=doc)


class _EnvWrapperCore:
    """What single- and multi-agent wrappers share: the wrapped env, its device, attribute forwarding and the
    conversion of arrays between the env's framework and the agents'."""

    #: the agents' framework ("torch" or "jax"), set by the backend's class assembly
    _framework: str = ""

    def __init__(self, env: Any) -> None:
        self._env = env
        try:
            self._unwrapped = env.unwrapped
        except Exception:
            self._unwrapped = env
        self._ops = self._create_array_ops()
        self._spaces = SpaceFunctions(self._ops)
        self._host_spaces = SpaceFunctions(HostArrayOps(self._ops.numpy_casts))
        self._device = self._ops.parse_device(getattr(self._unwrapped, "device", None))

    def _create_array_ops(self) -> SpaceArrayOps:
        """Backend hook: the array operations (and device parsing) outputs are built with."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_create_array_ops`")

    def __getattr__(self, key: str) -> Any:
        """Forward attributes the wrapper lacks to the wrapped env, then to the unwrapped env."""
        attributes = self.__dict__
        if key.startswith("__") or "_env" not in attributes:
            raise AttributeError(key)
        for target in (attributes["_env"], attributes["_unwrapped"]):
            if hasattr(target, key):
                return getattr(target, key)
        raise AttributeError(
            f"Wrapped environment ({type(attributes['_unwrapped']).__name__}) does not have attribute '{key}'"
        )

    @property
    def device(self) -> Any:
        """The device outputs are placed on (``torch.device`` or ``jax.Device``)."""
        return self._device

    @property
    def num_envs(self) -> int:
        """Number of environments run in parallel (1 for a single env)."""
        return getattr(self._unwrapped, "num_envs", 1)

    def _adopt(self, x: Any) -> Any:
        """An env output array (NumPy, torch or JAX) as an output array of this backend, on the wrapper's device."""
        if self._ops.is_native(x):
            return self._ops.adopt(x)
        if isinstance(x, (np.ndarray, np.generic, bool, int, float)):
            return self._ops.from_numpy(np.asarray(x), self.device)
        return self._ops.adopt(load_framework_module(self._framework).as_native_array(x, self.device))

    def _adopt_foreign(self, x: Any) -> Any:
        """``_adopt`` on the leaves of nested dicts, lists and tuples that are arrays of another framework.

        NumPy and Python leaves are left for ``tensorize_space``, which casts them as the backend does.
        """
        if isinstance(x, Mapping):
            return {k: self._adopt_foreign(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(self._adopt_foreign(v) for v in x)
        if x is None or self._ops.is_native(x) or isinstance(x, (np.ndarray, np.generic, bool, int, float)):
            return x
        return self._adopt(x)

    def _flatten(self, space: Any, x: Any) -> Any:
        """An env observation or state (of any framework) as a flattened ``(num_envs, size)`` backend array."""
        host = self._host_flat(space, x)
        if host is not None:
            return self._ops.from_numpy(host, self.device)
        tensorized = self._spaces.tensorize_space(space, self._adopt_foreign(x), device=self.device)
        return self._spaces.flatten_tensorized_space(tensorized)

    def _host_flat(self, space: Any, x: Any) -> Optional[np.ndarray]:
        """A NumPy leaf observation cast and reshaped on the host (then transferred once); None for anything else."""
        if isinstance(x, np.ndarray) and space_kind(space) in _SINGLE_LEAF_KINDS:
            return self._host_spaces.flatten_tensorized_space(self._host_spaces.tensorize_space(space, x))
        return None

    def _host_column(self, values: Any, dtype: Any) -> np.ndarray:
        return np.asarray(values, dtype=dtype).reshape(self.num_envs, -1)

    def _env_actions(self, space: Any, actions: Any, squeeze: bool) -> Any:
        """Flattened agent actions as what a NumPy env takes (untensorized; squeezed for a single env)."""
        if self._ops.is_native(actions):  # fetched once, then split and reshaped on the host
            actions = self._ops.to_numpy(actions)
        return self._spaces.untensorize_space(space, unflatten_tensorized_space(space, actions),
                                              squeeze_batch_dimension=squeeze)

    def _env_array(self, x: Any, framework: str, device: Any = None) -> Any:
        """Agent actions as an array of the env's ``framework`` ("numpy", "torch" or "jax"), on ``device``."""
        if framework == "numpy":
            return self._ops.to_numpy(x) if self._ops.is_native(x) else np.asarray(x)
        return load_framework_module(framework).as_native_array(x, device)

    def _column(self, values: Any, dtype: Any) -> Any:
        """Host rewards or flags as a ``(num_envs, 1)`` backend array of ``dtype``."""
        return self._ops.from_numpy(self._host_column(values, dtype), self.device)

    def _abstract(self, method: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not implement `{method}`")

    def reset(self) -> tuple[Any, Any]:
        """Reset the environment(s): ``(observations, infos)``."""
        raise self._abstract("reset")

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Step the environment(s): ``(observations, rewards, terminated, truncated, infos)``."""
        raise self._abstract("step")

    def state(self) -> Any:
        """The environment state, flattened to ``(num_envs, state_size)``."""
        raise self._abstract("state")

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render the environment(s)."""
        raise self._abstract("render")

    def close(self) -> None:
        """Close the environment(s)."""
        raise self._abstract("close")


class WrapperBase(_EnvWrapperCore):
    """Base of single-agent wrappers.

    ``step`` takes actions flattened to ``(num_envs, occupied_action_size)`` and returns observations
    ``(num_envs, occupied_obs_size)``, rewards ``(num_envs, 1)`` float32 and terminated/truncated
    ``(num_envs, 1)`` bool, on the wrapper's device.
    """

    @property
    def num_agents(self) -> int:
        """Number of agents (1 unless the env says otherwise)."""
        return getattr(self._unwrapped, "num_agents", 1)

    @property
    def state_space(self) -> Any:
        """The env's state space, or None."""
        return getattr(self._unwrapped, "state_space", None)

    observation_space = _unwrapped_attribute("observation_space", "The observation space of one environment.")
    action_space = _unwrapped_attribute("action_space", "The action space of one environment.")


class ConvertedSpacesMixin:
    """Spaces that the wrapper converted once from the env's own (gym, dm_env, Brax, gymnax) to gymnasium spaces."""

    _observation_space: Any
    _action_space: Any

    @property
    def observation_space(self) -> Any:
        """The observation space of one environment, as a gymnasium space."""
        return self._observation_space

    @property
    def action_space(self) -> Any:
        """The action space of one environment, as a gymnasium space."""
        return self._action_space


class MultiAgentEnvWrapperBase(_EnvWrapperCore):
    """Base of multi-agent wrappers: every value is a dict keyed by agent id, with single-agent shapes."""

    def _agent_count(self, attribute: str, ids: str) -> int:
        """The unwrapped env's ``attribute``, else the length of the wrapper's ``ids`` list."""
        try:
            return getattr(self._unwrapped, attribute)
        except AttributeError:
            return len(getattr(self, ids))

    @property
    def num_agents(self) -> int:
        """Number of current agents."""
        return self._agent_count("num_agents", "agents")

    @property
    def max_num_agents(self) -> int:
        """Number of possible agents."""
        return self._agent_count("max_num_agents", "possible_agents")

    agents = _unwrapped_attribute("agents", "Ids of the current agents.")
    possible_agents = _unwrapped_attribute("possible_agents", "Ids of all agents that may appear.")
    observation_spaces = _unwrapped_attribute("observation_spaces", "Observation space per agent.")
    action_spaces = _unwrapped_attribute("action_spaces", "Action space per agent.")

    @property
    def state_spaces(self) -> dict:
        """State space per agent (the env's single state space, shared)."""
        return {agent: self._unwrapped.state_space for agent in self.possible_agents}

    def state_space(self, agent: str) -> Any:
        """The state space of ``agent``."""
        return self.state_spaces[agent]

    def observation_space(self, agent: str) -> Any:
        """The observation space of ``agent``."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Any:
        """The action space of ``agent``."""
        return self.action_spaces[agent]
