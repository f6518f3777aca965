"""The JAX side of the agent core: params pytrees, orbax checkpoints, legacy 1.4.3 pickles, jitted statistics."""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from skrl import config
from skrl.common import background_writer
from skrl.common.agent_core import AgentCore
from skrl.common.state_trees import describe_leaves, flatten_tree, state_differences
from skrl.common.tracking import STATISTICS_BLOCK_STEPS, HostStepBlock, episode_statistics_fold, episode_statistics_init
from skrl.jax import checkpoint_io, checkpoint_worker, distributed


def _describe(leaf: Any) -> Any:
    return (tuple(np.shape(leaf)), str(np.asarray(leaf).dtype)) if hasattr(leaf, "shape") else None


@jax.jit
def _jitted_stats_fold(stats: Any, snapshots: tuple, steps: Any) -> Any:
    """One dispatch per block: ``snapshots`` is padded to ``STATISTICS_BLOCK_STEPS`` and ``steps`` rows count."""
    return episode_statistics_fold(jnp, stats, snapshots, steps)


def _is_model(module: Any) -> bool:
    return hasattr(module, "state_dict") and hasattr(getattr(module, "state_dict"), "apply_fn")


class Agent(AgentCore):
    """Base class of JAX agents (``skrl.agents.jax.Agent``)."""

    _checkpoint_extension = checkpoint_io.FILE_EXTENSION
    _backend_name = "jax"
    ignored_config_keys = ("mixed_precision",)

    def _all_gather_host(self, tree: Mapping[str, Any]) -> list:
        return distributed.all_gather_host(tree)

    # module states: models and preprocessors expose ``state_dict.params``; optimizers are flax pytrees
    def _module_state(self, module: Any) -> Any:
        if hasattr(module, "state_dict"):
            return module.state_dict.params
        return serialization.to_state_dict(module)

    def _to_host(self, state: Any) -> Any:
        return jax.tree_util.tree_map(lambda x: np.array(x, copy=True) if hasattr(x, "shape") else x,
                                      jax.device_get(state))

    def _best_snapshot(self) -> dict:
        # jax.Array leaves are immutable: keeping them is a snapshot (no host transfer at every improvement of the
        # best reward, only when a checkpoint writes it); NumPy leaves (host preprocessors) may change in place
        return jax.tree_util.tree_map(lambda x: x if isinstance(x, jax.Array) else np.array(x, copy=True)
                                      if isinstance(x, np.ndarray) else x, self._module_states())

    def _best_for_writing(self, snapshot: dict) -> dict:
        return self._to_host(snapshot)

    def _decode_state(self, name: str, module: Any, state: Any) -> Any:
        if isinstance(state, (bytes, bytearray)):  # skrl 1.4.3: flax msgpack bytes per module
            return checkpoint_io.msgpack_restore(bytes(state))
        return state

    def _state_differences(self, module: Any, state: Any) -> list[str]:
        expected = describe_leaves(flatten_tree(self._module_state(module), separator="/"), _describe)
        saved = describe_leaves(flatten_tree(state, separator="/"), _describe)
        return state_differences(saved, expected)

    def _load_module_state(self, module: Any, state: Any) -> Any:
        with jax.default_device(self.device):
            if hasattr(module, "state_dict") and _is_model(module):
                target = module.state_dict.params
                params = jax.device_put(serialization.from_state_dict(target, state), self.device)
                module.state_dict = module.state_dict.replace(params=params)
                return module
            if hasattr(module, "state_dict"):  # preprocessors: the setter copies the values in place
                module.state_dict = dict(state)
                return module
            return jax.device_put(serialization.from_state_dict(module, state), self.device)

    def _write_state(self, state: Any, path: str, background: bool = False) -> None:
        if background:
            background_writer.submit(checkpoint_worker.save_state, self._to_host(state), path)
        else:
            checkpoint_io.save_state(state, path)

    def _read_state(self, path: str) -> Any:
        return checkpoint_io.load_state(path)

    # On the CPU a device array is host memory already: ``np.asarray`` reads it (~2 us each) where ``device_get``
    # schedules one copy per array (~13 us each); elsewhere ``device_get`` overlaps the transfers.
    def _fetch_many(self, values: list) -> list:
        if self.device.platform != "cpu":
            values = jax.device_get(values)
        return [np.asarray(v, dtype=np.float64) for v in values]

    def _fetch_tree(self, tree: Mapping[str, Any]) -> dict:
        if self.device.platform != "cpu":
            tree = jax.device_get(dict(tree))
        return {k: np.asarray(v) for k, v in tree.items()}

    # Episode statistics live where the rewards live: NumPy with the "numpy" backend (a host env; a jitted call per
    # step would cost more than the arithmetic) and with "jax" arrays on the CPU (host memory already: read in
    # place, folded by NumPy, and no block fold to compile, ~0.4 s), device arrays updated by a jitted function on
    # an accelerator.
    def _stats_on_device(self) -> bool:
        return config.jax.backend == "jax" and self.device.platform != "cpu"

    def _stats_init(self, rewards: Any, like: Any = None) -> Any:
        num_envs = like["cum_reward"].shape[0] if like is not None else int(np.shape(rewards)[0] if np.ndim(rewards) else 1)
        if not self._stats_on_device():
            return episode_statistics_init(np, num_envs)
        with jax.default_device(self.device):
            return episode_statistics_init(jnp, num_envs)

    def _stats_from_host(self, host: Mapping[str, Any]) -> Any:
        if not self._stats_on_device():
            return {k: np.asarray(v, dtype=np.float32) for k, v in host.items()}
        with jax.default_device(self.device):
            return {k: jnp.asarray(v, dtype=jnp.float32) for k, v in host.items()}

    def _backend_rng_state(self) -> dict:
        key = getattr(self, "_key", None)
        return {} if key is None else {"jax_key": np.asarray(jax.device_get(key))}

    def _restore_backend_rng_state(self, state: Mapping[str, Any]) -> None:
        if "jax_key" in state and hasattr(self, "_key"):
            self._key = jax.device_put(jnp.asarray(np.asarray(state["jax_key"]), dtype=jnp.uint32), self.device)

    def _new_pending_steps(self) -> Any:
        if self._stats_on_device():
            return []
        block = getattr(self, "_pending_steps", None)
        return block if isinstance(block, HostStepBlock) else HostStepBlock()  # a folded block is empty: reused

    def _stats_snapshot(self, rewards: Any, terminated: Any, truncated: Any) -> tuple:
        # device arrays are immutable (kept as they are); host arrays are copied (by the host block, or here):
        # an env may reuse its buffers
        if isinstance(self._pending_steps, HostStepBlock):
            return tuple(np.asarray(x) if isinstance(x, jax.Array) else x for x in (rewards, terminated, truncated))
        return tuple(x if isinstance(x, jax.Array) else np.array(x) for x in (rewards, terminated, truncated))

    def _stats_fold(self, stats: Any, snapshots: Any) -> Any:
        if isinstance(snapshots, HostStepBlock):
            return snapshots.fold(stats)
        if not self._stats_on_device():
            return episode_statistics_fold(np, stats, [tuple(np.asarray(x) for x in s) for s in snapshots])
        padding = [snapshots[-1]] * (STATISTICS_BLOCK_STEPS - len(snapshots))
        return _jitted_stats_fold(stats, tuple(snapshots + padding), len(snapshots))
