"""Assembly of a backend's public wrapper classes from the backend-free bases and its array operations.

``skrl.envs.wrappers.torch`` and ``.jax`` differ only in how outputs are created (``SpaceArrayOps``) and in
their framework's name, so each calls ``build_wrapper_classes`` and re-exports the result.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from skrl.common import env_wrappers
from skrl.common.deepmind_envs import DeepMindWrapperBase
from skrl.common.env_wrappers import MultiAgentEnvWrapperBase, WrapperBase
from skrl.common.gymnasium_envs import GymnasiumWrapperBase, GymWrapperBase
from skrl.common.isaac_envs import (
    IsaacGymPreview2WrapperBase,
    IsaacGymPreview3WrapperBase,
    IsaacLabMultiAgentWrapperBase,
    IsaacLabWrapperBase,
    OmniverseIsaacGymWrapperBase,
)
from skrl.common.jax_envs import BraxWrapperBase, GymnaxWrapperBase
from skrl.common.pettingzoo_envs import PettingZooWrapperBase
from skrl.common.spaces import SpaceArrayOps

__all__ = ["WRAPPERS", "WrapperClasses", "build_wrapper_classes"]

#: public class name -> (backend-free base, multi-agent?, description, {wrap_env name: log label})
WRAPPERS: dict[str, tuple[type, bool, str, dict[str, str]]] = {
    "GymnasiumWrapper": (GymnasiumWrapperBase, False, "a gymnasium env or vector env", {"gymnasium": "gymnasium"}),
    "GymWrapper": (GymWrapperBase, False, "an OpenAI gym env or vector env", {"gym": "Gym"}),
    "BraxWrapper": (BraxWrapperBase, False, "a Brax env", {"brax": "Brax"}),
    "GymnaxWrapper": (GymnaxWrapperBase, False, "a gymnax env (vmapped copies)", {"gymnax": "gymnax"}),
    "DeepMindWrapper": (DeepMindWrapperBase, False, "a DeepMind dm_env env", {"dm": "DeepMind"}),
    "PettingZooWrapper": (PettingZooWrapperBase, True, "a PettingZoo parallel env", {"pettingzoo": "Petting Zoo"}),
    "IsaacLabWrapper": (IsaacLabWrapperBase, False, "an Isaac Lab single-agent env",
                        {"isaaclab-single-agent": "Isaac Lab (single-agent)"}),
    "IsaacLabMultiAgentWrapper": (IsaacLabMultiAgentWrapperBase, True, "an Isaac Lab multi-agent env",
                                  {"isaaclab-multi-agent": "Isaac Lab (multi-agent)"}),
    "IsaacGymPreview2Wrapper": (IsaacGymPreview2WrapperBase, False, "an Isaac Gym preview 2 env",
                                {"isaacgym-preview2": "Isaac Gym (preview 2)"}),
    "IsaacGymPreview3Wrapper": (IsaacGymPreview3WrapperBase, False, "an Isaac Gym preview 3 or 4 env",
                                {"isaacgym-preview3": "Isaac Gym (preview 3)", "isaacgym-preview4": "Isaac Gym (preview 4)"}),
    "OmniverseIsaacGymWrapper": (OmniverseIsaacGymWrapperBase, False, "an Omniverse Isaac Gym env",
                                 {"omniverse-isaacgym": "Omniverse Isaac Gym"}),
}


class WrapperClasses(NamedTuple):
    """A backend's wrapper classes and its ``wrap_env``."""

    Wrapper: type
    MultiAgentEnvWrapper: type
    GymnasiumWrapper: type
    GymWrapper: type
    BraxWrapper: type
    GymnaxWrapper: type
    DeepMindWrapper: type
    PettingZooWrapper: type
    IsaacLabWrapper: type
    IsaacLabMultiAgentWrapper: type
    IsaacGymPreview2Wrapper: type
    IsaacGymPreview3Wrapper: type
    OmniverseIsaacGymWrapper: type
    wrap_env: Callable[..., Any]


def build_wrapper_classes(
    create_array_ops: Callable[[Any], SpaceArrayOps], module: str, framework: str
) -> WrapperClasses:
    """Build the wrapper classes of the ``framework`` ("torch" or "jax") backend, whose wrappers get their array ops
    from ``create_array_ops(wrapper)``.

    The classes are named as in ``module`` (e.g. ``skrl.envs.wrappers.torch.GymnasiumWrapper``), which must bind
    them to those names, so that they pickle and print as module-level classes.
    """
    label = {"torch": "torch", "jax": "JAX"}.get(framework, framework)

    def _create_array_ops(self: Any) -> SpaceArrayOps:
        return create_array_ops(self)

    def make(name: str, bases: tuple, doc: str, **namespace: Any) -> type:
        return type(name, bases, {"__module__": module, "__qualname__": name, "__doc__": doc, **namespace})

    single = make("Wrapper", (WrapperBase,), f"Base class of single-agent {label} wrappers.",
                  _create_array_ops=_create_array_ops, _framework=framework)
    multi = make("MultiAgentEnvWrapper", (MultiAgentEnvWrapperBase,), f"Base class of multi-agent {label} wrappers.",
                 _create_array_ops=_create_array_ops, _framework=framework)
    classes, table = {}, {}
    for name, (base, multi_agent, description, names) in WRAPPERS.items():
        cls = make(name, (base, multi if multi_agent else single), f"Wrapper of {description} for {label} agents.")
        classes[name] = cls
        table.update({wrapper: (cls, log_label) for wrapper, log_label in names.items()})

    def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True, **kwargs: Any) -> Any:
        """Wrap ``env``; ``wrapper="auto"`` detects the env type from its classes (and logs what it found).

        ``kwargs`` go to the wrapper (gymnax: ``num_envs``, ``params``, ``seed``; Brax: ``seed``).

        Raises:
            ValueError: the requested or detected wrapper is not one this backend provides (the message lists them).
        """
        return env_wrappers.wrap_env(env, wrapper, verbose, table, **kwargs)

    wrap_env.__module__ = module
    return WrapperClasses(Wrapper=single, MultiAgentEnvWrapper=multi, wrap_env=wrap_env, **classes)
