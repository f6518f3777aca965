"""Assembly of a backend's public wrapper classes from the backend-free bases and its array operations.

``skrl.envs.wrappers.torch`` and ``.jax`` differ only in how outputs are created (``SpaceArrayOps``), so each
calls ``build_wrapper_classes`` with its own ``create_array_ops`` and re-exports the result.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from skrl.common import env_wrappers
from skrl.common.env_wrappers import MultiAgentEnvWrapperBase, WrapperBase
from skrl.common.gymnasium_envs import GymnasiumWrapperBase, GymWrapperBase
from skrl.common.spaces import SpaceArrayOps

__all__ = ["WrapperClasses", "build_wrapper_classes"]


class WrapperClasses(NamedTuple):
    """A backend's wrapper classes and its ``wrap_env``."""

    Wrapper: type
    MultiAgentEnvWrapper: type
    GymnasiumWrapper: type
    GymWrapper: type
    wrap_env: Callable[..., Any]


def build_wrapper_classes(
    create_array_ops: Callable[[Any], SpaceArrayOps], module: str, framework: str
) -> WrapperClasses:
    """Build the wrapper classes of a backend whose wrappers get their array ops from ``create_array_ops(wrapper)``.

    The classes are named as in ``module`` (e.g. ``skrl.envs.wrappers.torch.GymnasiumWrapper``), which must bind
    them to those names, so that they pickle and print as module-level classes.
    """

    def _create_array_ops(self: Any) -> SpaceArrayOps:
        return create_array_ops(self)

    def make(name: str, bases: tuple, doc: str, **namespace: Any) -> type:
        return type(name, bases, {"__module__": module, "__qualname__": name, "__doc__": doc, **namespace})

    wrapper = make("Wrapper", (WrapperBase,), f"Base class of single-agent {framework} wrappers.",
                   _create_array_ops=_create_array_ops)
    multi_agent = make("MultiAgentEnvWrapper", (MultiAgentEnvWrapperBase,),
                       f"Base class of multi-agent {framework} wrappers.", _create_array_ops=_create_array_ops)
    gymnasium_wrapper = make("GymnasiumWrapper", (GymnasiumWrapperBase, wrapper),
                             f"Wrapper of a gymnasium env or vector env for {framework} agents.")
    gym_wrapper = make("GymWrapper", (GymWrapperBase, wrapper),
                       f"Wrapper of an OpenAI gym env or vector env for {framework} agents.")
    table = {"gym": (gym_wrapper, "Gym"), "gymnasium": (gymnasium_wrapper, "gymnasium")}

    def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True) -> Any:
        """Wrap ``env``; ``wrapper="auto"`` detects the env type from its classes.

        Raises:
            ValueError: the requested or detected wrapper is not one this backend provides.
        """
        return env_wrappers.wrap_env(env, wrapper, verbose, table)

    wrap_env.__module__ = module
    return WrapperClasses(wrapper, multi_agent, gymnasium_wrapper, gym_wrapper, wrap_env)
