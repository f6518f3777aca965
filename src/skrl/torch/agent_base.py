"""The torch side of the agent core: state dicts, ``.pt`` files, device scalars fetched in one transfer."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

import numpy as np
import torch

from skrl.common import background_writer
from skrl.common.agent_core import AgentCore
from skrl.common.state_trees import describe_leaves, state_differences
from skrl.common.tracking import HostStepBlock, episode_statistics_fold, episode_statistics_init
from skrl.torch import checkpoint_io, distributed


def _describe(leaf: Any) -> Any:
    if isinstance(leaf, torch.nn.parameter.UninitializedTensorMixin):  # a lazy layer nothing could materialise
        return (None, str(leaf.dtype))
    return (tuple(leaf.shape), str(leaf.dtype)) if isinstance(leaf, torch.Tensor) else None


def _to_host(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, Mapping):
        return {k: _to_host(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v) for v in value)
    return value


def _materialize_lazy_layers(model: Any, role: str) -> None:
    """Give lazy layers (the instantiators build them) their shapes now, with one call on sample inputs.

    Done when the agent is built, so that a checkpoint is compared with the real shapes before loading, and so that
    the first parameters are not created inside ``act``'s inference mode (they could not be trained then).
    """
    lazy = any(isinstance(p, torch.nn.parameter.UninitializedTensorMixin) for p in model.parameters())
    if lazy and hasattr(model, "init_state_dict"):
        model.init_state_dict(role)


def _host_rows(x: Any) -> Any:
    """A NumPy view of a CPU tensor (the host block copies its rows at once), or ``x`` as it is."""
    if isinstance(x, torch.Tensor):
        return (x.detach() if x.requires_grad else x).numpy()
    return x


class Agent(AgentCore):
    """Base class of torch agents (``skrl.agents.torch.Agent``)."""

    _checkpoint_extension = checkpoint_io.FILE_EXTENSION
    _backend_name = "torch"

    def __init__(self, models: Mapping[str, Any], memory: Any = None, observation_space: Any = None,
                 action_space: Any = None, device: Any = None, cfg: Any = None) -> None:
        distributed.ensure_process_group()
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        for role, model in self.models.items():
            model.to(model.device)
            _materialize_lazy_layers(model, role)

    def _all_gather_host(self, tree: Mapping[str, Any]) -> list:
        return distributed.all_gather_host(tree)

    def _average_gradients(self, parameters: Optional[Iterable[torch.Tensor]] = None) -> None:
        """Distributed runs: average the gradients of ``parameters`` (default: of every model) over the processes,
        between backward and step; nothing when not distributed."""
        if self._world_size() > 1:
            if parameters is not None:
                distributed.average_gradients(parameters)
                return
            for model in {id(m): m for m in self.models.values()}.values():
                model.reduce_parameters()

    def _mean_over_ranks(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` averaged over the processes (itself when not distributed), so that every rank decides alike."""
        return distributed.all_reduce_mean(value.detach().clone()) if self._world_size() > 1 else value

    def _module_state(self, module: Any) -> Any:
        return module.state_dict() if hasattr(module, "state_dict") else module

    def _to_host(self, state: Any) -> Any:
        return _to_host(state)

    def _state_differences(self, module: Any, state: Any) -> list[str]:
        if not isinstance(module, torch.nn.Module):
            return []  # optimizers validate their own state on load
        if not isinstance(state, Mapping):
            return [f"expected a state dict, got {type(state).__name__}"]
        expected = describe_leaves(dict(module.state_dict()), _describe)
        return state_differences(describe_leaves(dict(state), _describe), expected)

    def _load_module_state(self, module: Any, state: Any) -> Any:
        if isinstance(module, torch.optim.Optimizer):
            try:
                module.load_state_dict(state)
            except (ValueError, KeyError) as e:
                raise ValueError(f"Cannot load the optimizer state: {e}") from None
            return module
        module.load_state_dict(state)
        return module

    def _write_state(self, state: Any, path: str, background: bool = False) -> None:
        if background:
            background_writer.submit(checkpoint_io.save_state, _to_host(state), path)
        else:
            checkpoint_io.save_state(state, path)

    def _read_state(self, path: str) -> Any:
        return checkpoint_io.load_state(path, self.device)

    def _fetch_many(self, values: list) -> list:
        tensors = [v for v in values if isinstance(v, torch.Tensor)]
        if tensors:  # one device-to-host transfer for every tensor of the interval
            host = iter(torch.stack([t.detach().reshape(-1)[0].float() if t.numel() == 1 else t.detach().float().mean()
                                     for t in tensors]).cpu().numpy())
        return [np.asarray(next(host)) if isinstance(v, torch.Tensor) else np.asarray(v, dtype=np.float64)
                for v in values]

    def _fetch_tree(self, tree: Mapping[str, Any]) -> dict:
        return {k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for k, v in tree.items()}

    # Episode statistics live where the rewards live: NumPy for an agent on the CPU (a step then costs a few row
    # copies, and a block's fold ~30 NumPy operations instead of as many torch ones), tensors on an accelerator
    # (no host sync per step).
    def _stats_on_host(self) -> bool:
        return torch.device(self.device).type == "cpu"

    def _new_pending_steps(self) -> Any:
        if not self._stats_on_host():
            return []
        block = getattr(self, "_pending_steps", None)
        return block if isinstance(block, HostStepBlock) else HostStepBlock()  # a folded block is empty: reused

    def _stats_init(self, rewards: Any, like: Any = None) -> Any:
        num_envs = like["cum_reward"].shape[0] if like is not None else int(np.prod(rewards.shape[:1]) or 1)
        if self._stats_on_host():
            return episode_statistics_init(np, num_envs)
        return episode_statistics_init(torch, num_envs, like={"device": self.device})

    def _stats_from_host(self, host: Mapping[str, Any]) -> Any:
        if self._stats_on_host():
            return {k: np.asarray(v, dtype=np.float32) for k, v in host.items()}
        return {k: torch.as_tensor(np.asarray(v), device=self.device) for k, v in host.items()}

    def _backend_rng_state(self) -> dict:
        return {"torch": torch.get_rng_state().numpy()}

    def _restore_backend_rng_state(self, state: Mapping[str, Any]) -> None:
        if "torch" in state:
            torch.set_rng_state(torch.from_numpy(np.asarray(state["torch"], dtype=np.uint8)))

    def _encode_host_tree(self, tree: Any) -> Any:
        """NumPy arrays become tensors: ``torch.load(weights_only=True)`` accepts no NumPy objects."""
        if isinstance(tree, Mapping):
            return {k: self._encode_host_tree(v) for k, v in tree.items()}
        if isinstance(tree, np.ndarray):
            return torch.from_numpy(np.array(tree, copy=True))
        return tree

    def _decode_host_tree(self, tree: Any) -> Any:
        if isinstance(tree, Mapping):
            return {k: self._decode_host_tree(v) for k, v in tree.items()}
        if isinstance(tree, torch.Tensor):
            return tree.cpu().numpy()
        return tree

    def _stats_snapshot(self, rewards: Any, terminated: Any, truncated: Any) -> tuple:
        # copies: an env may overwrite its reward and done buffers in place on the next step (Isaac Lab does); the
        # host block copies the rows itself
        if isinstance(self._pending_steps, HostStepBlock):
            return _host_rows(rewards), _host_rows(terminated), _host_rows(truncated)
        return tuple(x.clone() if isinstance(x, torch.Tensor) else torch.as_tensor(x, device=self.device)
                     for x in (rewards, terminated, truncated))

    def _stats_fold(self, stats: Any, snapshots: Any) -> Any:
        if isinstance(snapshots, HostStepBlock):
            return snapshots.fold(stats)
        return episode_statistics_fold(torch, stats, snapshots)
