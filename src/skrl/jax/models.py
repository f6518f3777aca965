"""The JAX/Flax ``Model`` base and its ``StateDict``: spaces, device, parameters and their utilities.

A user model is ``class Policy(<Mixin>, Model)`` with a Flax ``__call__(inputs, role)``; the mixin provides
``act`` and runs Flax's ``__post_init__`` at the end of construction. Parameters live in ``state_dict.params``
(the whole variables dict ``{"params": ...}``) after ``init_state_dict``.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import flax
import flax.linen as nn
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from skrl import config, logger
from skrl.common import models as common
from skrl.common.errors import CheckpointFileError
from skrl.common.state_trees import check_state_matches, describe_leaves, flatten_tree
from skrl.jax.checkpoint_io import load_legacy_pickle, load_state, msgpack_restore, save_state
from skrl.utils.spaces.jax import flatten_tensorized_space, sample_space

SpaceLike = Union[int, Sequence[int], gymnasium.Space]


class StateDict(flax.struct.PyTreeNode):
    """A model's parameters: ``params`` (the Flax variables dict) and the static ``apply_fn``."""

    apply_fn: Callable = flax.struct.field(pytree_node=False)
    params: Any = flax.struct.field(pytree_node=True)

    @classmethod
    def create(cls, *, apply_fn: Callable, params: Any, **kwargs) -> "StateDict":
        return cls(apply_fn=apply_fn, params=params, **kwargs)


def _describe(leaf: Any) -> Optional[tuple]:
    return (tuple(np.shape(leaf)), str(leaf.dtype)) if hasattr(leaf, "shape") else None


def _read_params_file(path: str) -> Any:
    """Parameters saved by ``Model.save``: an orbax directory, raw flax msgpack bytes (skrl 1.4.3
    ``Model.save``) or a skrl 1.4.3 pickle holding those bytes (a separately stored checkpoint module)."""
    if os.path.isdir(path):
        return load_state(path)
    with open(path, "rb") as file:
        raw = file.read()
    if raw[:1] == b"\x80":  # pickle protocol 2+ header
        raw = load_legacy_pickle(path)
        if not isinstance(raw, (bytes, bytearray)):
            raise CheckpointFileError(
                f"{path!r} is a pickle of {type(raw).__name__}, not of one model's parameters (an agent "
                "checkpoint holds several modules: load it with the agent's load)"
            )
    return msgpack_restore(bytes(raw))


@jax.jit
def _blend(source: Any, target: Any, polyak: float) -> Any:
    return jax.tree_util.tree_map(lambda s, t: polyak * s + (1 - polyak) * t, source, target)


class Model(nn.Module):
    """Base of JAX models (a ``flax.linen.Module`` with a custom constructor, see the module docstring)."""

    observation_space: Any
    action_space: Any
    device: Any = None

    def __init__(
        self,
        observation_space: SpaceLike,
        action_space: SpaceLike,
        device: Optional[Union[str, jax.Device]] = None,
        parent: Optional[Any] = None,
        name: Optional[str] = None,
    ) -> None:
        common.set_model_spaces(self, observation_space, action_space, config.jax.parse_device(device))
        self.training = False
        self._jax = config.jax.backend == "jax"
        self.parent = parent
        self.name = name

    def __setattr__(self, name: str, value: Any) -> None:
        """Outside ``setup`` attributes are plain (``state_dict``, mode, mixin counters); inside, Flax registers submodules."""
        state = self.__dict__.get("_state")
        if state is not None and state.in_setup:
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)

    def init_state_dict(
        self, role: str, inputs: Mapping[str, Union[np.ndarray, jax.Array]] = {}, key: Optional[jax.Array] = None
    ) -> None:
        """Initialise the parameters (mandatory before ``act``) with one sample of each space unless ``inputs`` given."""
        inputs = dict(inputs)
        if not inputs:
            inputs = {"states": self._sample_flat(self.observation_space),
                      "taken_actions": self._sample_flat(self.action_space)}
        if isinstance(inputs.get("states"), (int, np.integer)):
            inputs["states"] = np.asarray(inputs["states"]).reshape(-1, 1)
        if key is None:
            key = config.jax.key
        with jax.default_device(self.device):
            self.state_dict = StateDict.create(apply_fn=self.apply, params=self.init(key, inputs, role))

    def _sample_flat(self, space: Any) -> Optional[jax.Array]:
        return flatten_tensorized_space(sample_space(space, batch_size=1, backend="native", device=self.device))

    def _params(self, params: Optional[Any]) -> Any:
        return self.state_dict.params if params is None else params

    def random_act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        """Uniform random actions from NumPy's global RNG (a ``jax.Array`` when ``config.jax.backend == "jax"``)."""
        del role, params
        actions = common.sample_random_actions(common.random_action_spec(self.action_space), inputs["states"].shape[0])
        return (jax.device_put(actions, self.device) if self._jax else actions), None, {}

    def _init_matching(self, method_name: str, args: tuple, kwargs: dict, last_key: Optional[str]) -> None:
        """Re-initialise the leaves whose last path key is ``last_key`` (all if None), one PRNG key per leaf."""
        name, args, kwargs = common.initializer_request(
            method_name, args, kwargs, trailing_underscore=False, value_keyword="value"
        )
        factory = getattr(nn.initializers, name, None)
        if factory is None:
            raise common.unknown_initializer_error(name, "flax.linen.initializers")
        initializer = factory if name in ("ones", "zeros") else factory(*args, **kwargs)
        base_key, counter = config.jax.key, itertools.count()

        def update(path: tuple, leaf: jax.Array) -> jax.Array:
            if last_key is not None and getattr(path[-1], "key", None) != last_key:
                return leaf
            return initializer(jax.random.fold_in(base_key, next(counter)), leaf.shape, leaf.dtype)

        params = jax.tree_util.tree_map_with_path(update, self.state_dict.params)
        self.state_dict = self.state_dict.replace(params=params)

    def init_parameters(self, method_name: str = "normal", *args, **kwargs) -> None:
        """Initialise every parameter with ``flax.linen.initializers.<method_name>`` (torch names also accepted)."""
        self._init_matching(method_name, args, kwargs, None)

    def init_weights(self, method_name: str = "normal", *args, **kwargs) -> None:
        """Initialise the ``kernel`` leaves."""
        self._init_matching(method_name, args, kwargs, "kernel")

    def init_biases(self, method_name: str = "constant_", *args, **kwargs) -> None:
        """Initialise the ``bias`` leaves; the default fills them with 0."""
        self._init_matching(method_name, args, kwargs, "bias")

    def get_specification(self) -> dict:
        return {}

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Optional[Any] = None) -> tuple:
        logger.warning(common.MIXIN_ORDER_WARNING)
        raise NotImplementedError(common.ACT_NOT_IMPLEMENTED)

    def set_mode(self, mode: str) -> None:
        self.training = common.training_flag(mode)

    def save(self, path: str, state_dict: Optional[StateDict] = None) -> None:
        """Write the parameters as an orbax checkpoint directory at ``path``."""
        save_state((self.state_dict if state_dict is None else state_dict).params, path)

    def load(self, path: str) -> None:
        """Load parameters written by ``save`` (or by skrl 1.4.3), check their structure, then switch to eval mode.

        Raises ``CheckpointMismatchError`` listing missing/unexpected keys and shape differences.
        """
        saved = flatten_tree(_read_params_file(path), separator="/")
        expected = flatten_tree(self.state_dict.params, separator="/")
        check_state_matches(describe_leaves(saved, _describe), describe_leaves(expected, _describe),
                            f"model {type(self).__name__}")

        def restore(path_keys: tuple, leaf: jax.Array) -> jax.Array:
            key = "/".join(str(getattr(k, "key", k)) for k in path_keys)
            return jnp.asarray(saved[key], dtype=leaf.dtype)

        with jax.default_device(self.device):
            params = jax.tree_util.tree_map_with_path(restore, self.state_dict.params)
        self.state_dict = self.state_dict.replace(params=params)
        self.set_mode("eval")

    def migrate(self, state_dict: Optional[Mapping[str, Any]] = None, path: Optional[str] = None,
                name_map: Mapping[str, str] = {}, auto_mapping: bool = True, verbose: bool = False) -> bool:
        """Load parameters from an rl_games/CleanRL torch file, a Stable-Baselines3 ``.zip`` or a state dict.

        ``name_map`` maps this model's names (or module prefixes) to source names; other entries are mapped by equal
        shape and suffix when ``auto_mapping``. Names are torch-style (``net_container.0.weight``, kernels in
        torch layout: see ``skrl.jax.migration``), so a torch ``name_map`` works here too. Raises
        ``MigrationMappingError`` listing every ambiguous, missing or reused entry, and then loads nothing;
        ``verbose`` logs the mapping as a table.
        """
        from skrl.jax.migration import migrate_model

        return migrate_model(self, state_dict, path, name_map, auto_mapping, verbose)

    def freeze_parameters(self, freeze: bool = True) -> None:
        """No effect in JAX (gradients are taken explicitly); kept for API compatibility."""
        del freeze

    def update_parameters(self, model: "Model", polyak: float = 1) -> None:
        """Hard copy (``polyak == 1``, the tree is shared) or blend ``polyak·θ_src + (1 - polyak)·θ``."""
        if polyak == 1:
            self.state_dict = self.state_dict.replace(params=model.state_dict.params)
        else:
            self.state_dict = self.state_dict.replace(params=_blend(model.state_dict.params, self.state_dict.params, polyak))

    def broadcast_parameters(self, rank: int = 0) -> None:
        """Replace this process's parameters with those of process ``rank`` (distributed runs)."""
        from jax.experimental import multihost_utils

        params = multihost_utils.broadcast_one_to_all(self.state_dict.params, is_source=jax.process_index() == rank)
        self.state_dict = self.state_dict.replace(params=params)

    def reduce_parameters(self, tree: Any) -> Any:
        """Average a gradient pytree over all processes (one all-reduce of the concatenated leaves)."""
        from jax.flatten_util import ravel_pytree

        vector, unravel = ravel_pytree(tree)
        vector = jax.pmap(lambda x: jax.lax.psum(x, "i"), axis_name="i")(vector[None])[0]
        return unravel(vector / config.jax.world_size)
