"""The torch ``Model`` base: spaces, device and parameter utilities around a user's ``compute``.

A user model is ``class Policy(<Mixin>, Model)``; the mixin provides ``act`` and the user provides ``compute``.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import gymnasium
import torch

from skrl import config, logger
from skrl.common import models as common
from skrl.common.errors import CheckpointFileError
from skrl.common.spaces import unflatten_tensorized_space
from skrl.common.state_trees import check_state_matches
from skrl.torch.checkpoint_io import load_state, save_state
from skrl.torch.distributed import average_gradients, broadcast_tensors
from skrl.utils.spaces.torch import flatten_tensorized_space, sample_space

SpaceLike = Union[int, Sequence[int], gymnasium.Space]


def _describe_state(state: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, tuple]:
    """``{key: (shape, dtype)}`` of tensors; uninitialised lazy parameters take the shape found in ``reference``."""
    specs = {}
    for key, value in state.items():
        if isinstance(value, torch.nn.parameter.UninitializedParameter):
            other = reference.get(key)
            specs[key] = (tuple(getattr(other, "shape", ())), str(getattr(other, "dtype", "")))
        elif isinstance(value, torch.Tensor):
            specs[key] = (tuple(value.shape), str(value.dtype))
    return specs


class Model(torch.nn.Module):
    """Base of torch models: holds the spaces, their sizes and the device (the model is not moved there)."""

    def __init__(
        self,
        observation_space: SpaceLike,
        action_space: SpaceLike,
        device: Optional[Union[str, torch.device]] = None,
    ) -> None:
        torch.nn.Module.__init__(self)
        common.set_model_spaces(self, observation_space, action_space, config.torch.parse_device(device))
        self._random_distribution = None

    def init_state_dict(self, role: str, inputs: Mapping[str, torch.Tensor] = {}) -> None:
        """Materialise lazy layers: move to ``self.device`` and run ``compute`` once (one sample of each space)."""
        if not inputs:
            inputs = {
                "states": self._sample_flat(self.observation_space),
                "taken_actions": self._sample_flat(self.action_space),
            }
        self.to(self.device)
        with torch.no_grad():
            self.compute(inputs=inputs, role=role)

    def _sample_flat(self, space: Any) -> Optional[torch.Tensor]:
        sample = sample_space(space, batch_size=1, backend="native", device=self.device)
        return flatten_tensorized_space(sample)

    def tensor_to_space(self, tensor: torch.Tensor, space: gymnasium.Space, start: int = 0) -> Any:
        """Deprecated: use ``unflatten_tensorized_space(space, tensor)`` (``start`` is ignored)."""
        del start
        return unflatten_tensorized_space(space, tensor)

    def random_act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        """Uniform random actions ``(B, ...)`` on ``self.device`` from torch's RNG (``B`` = batch of ``states``)."""
        del role
        spec = common.random_action_spec(self.action_space)
        batch_size = inputs["states"].shape[0]
        if spec.is_discrete:
            nvec = torch.as_tensor(spec.nvec, device=self.device)
            actions = (torch.rand((batch_size, len(spec.nvec)), device=self.device) * nvec).long()
            return torch.minimum(actions, nvec - 1), None, {}
        low = torch.as_tensor(spec.low, device=self.device)
        high = torch.as_tensor(spec.high, device=self.device)
        return low + torch.rand((batch_size, len(spec.low)), device=self.device) * (high - low), None, {}

    def _initializer(self, method_name: str, args: tuple, kwargs: dict) -> tuple[Any, tuple, dict]:
        name, args, kwargs = common.initializer_request(
            method_name, args, kwargs, trailing_underscore=True, value_keyword="val"
        )
        if not hasattr(torch.nn.init, name):
            raise common.unknown_initializer_error(name, "torch.nn.init")
        return getattr(torch.nn.init, name), args, kwargs

    def init_parameters(self, method_name: str = "normal_", *args, **kwargs) -> None:
        """Initialise every parameter with ``torch.nn.init.<method_name>(p, *args, **kwargs)``."""
        method, args, kwargs = self._initializer(method_name, args, kwargs)
        for parameter in self.parameters():
            method(parameter, *args, **kwargs)

    def _linear_layers(self, module: torch.nn.Module) -> list[torch.nn.Linear]:
        """Linear layers among the direct children, recursing only into ``nn.Sequential`` (as skrl 1.4.3)."""
        layers = []
        for child in module.children():
            if isinstance(child, torch.nn.Sequential):
                layers.extend(self._linear_layers(child))
            elif isinstance(child, torch.nn.Linear):
                layers.append(child)
        return layers

    def init_weights(self, method_name: str = "orthogonal_", *args, **kwargs) -> None:
        """Initialise the ``weight`` of the linear layers (see ``_linear_layers``)."""
        method, args, kwargs = self._initializer(method_name, args, kwargs)
        for layer in self._linear_layers(self):
            method(layer.weight, *args, **kwargs)

    def init_biases(self, method_name: str = "constant_", *args, **kwargs) -> None:
        """Initialise the ``bias`` of the linear layers; the default fills them with 0."""
        method, args, kwargs = self._initializer(method_name, args, kwargs)
        for layer in self._linear_layers(self):
            if layer.bias is not None:
                method(layer.bias, *args, **kwargs)

    def get_specification(self) -> dict:
        """Extra information for agents (e.g. ``{"rnn": {"sequence_length": ..., "sizes": [...]}}``)."""
        return {}

    def forward(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, Any, dict]:
        return self.act(inputs, role)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple:
        raise NotImplementedError(common.COMPUTE_NOT_IMPLEMENTED)

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, Any, dict]:
        logger.warning(common.MIXIN_ORDER_WARNING)
        raise NotImplementedError(common.ACT_NOT_IMPLEMENTED)

    def set_mode(self, mode: str) -> None:
        """``"train"`` or ``"eval"`` (dropout, batch norm, ...).

        Agents switch modes around every update (off-policy: every env step, for every model and target), and
        ``nn.Module.train`` sets the flag through ``nn.Module.__setattr__`` on every submodule (~16 us for a 64x64
        MLP). Nothing is done when every submodule is in ``mode`` already; otherwise, unless some submodule has a
        ``train`` of its own (which then runs), the flag is stored directly, as ``train`` would store it (~2 us).
        """
        flag = common.training_flag(mode)
        modules = list(self.modules())
        if all(module.training == flag for module in modules):
            return
        if any(type(module).train is not torch.nn.Module.train for module in modules):
            self.train(flag)
            return
        for module in modules:
            module.__dict__["training"] = flag

    def save(self, path: str, state_dict: Optional[Mapping[str, Any]] = None) -> None:
        """Write this model's ``state_dict()`` (or the given one) to ``path`` atomically."""
        save_state(self.state_dict() if state_dict is None else state_dict, path)

    def load(self, path: str) -> None:
        """Load a file written by ``save`` onto ``self.device``, then switch to eval mode.

        Raises ``CheckpointMismatchError`` listing missing/unexpected keys and shape differences.
        """
        state = load_state(path, self.device)
        if not isinstance(state, Mapping):
            raise CheckpointFileError(f"{path!r} does not hold a model state dict (found {type(state).__name__})")
        expected = self.state_dict()
        check_state_matches(_describe_state(state, expected), _describe_state(expected, state), f"model {type(self).__name__}")
        self.load_state_dict(state, strict=True)
        self.eval()

    def migrate(self, state_dict: Optional[Mapping[str, Any]] = None, path: Optional[str] = None,
                name_map: Mapping[str, str] = {}, auto_mapping: bool = True, verbose: bool = False) -> bool:
        """Load parameters from an rl_games/CleanRL torch file, a Stable-Baselines3 ``.zip`` or a state dict.

        ``name_map`` maps this model's names (or module prefixes) to source names; other entries are mapped by equal
        shape and suffix when ``auto_mapping``; names are ``state_dict()`` keys. Raises ``MigrationMappingError``
        listing every ambiguous, missing or reused entry, and then loads nothing; ``verbose`` logs the mapping.
        """
        from skrl.torch.migration import migrate_model

        return migrate_model(self, state_dict, path, name_map, auto_mapping, verbose)

    def freeze_parameters(self, freeze: bool = True) -> None:
        for parameter in self.parameters():
            parameter.requires_grad = not freeze

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module, polyak: float = 1) -> None:
        """Copy (``polyak == 1``) or blend ``θ ← (1 - polyak)·θ + polyak·θ_src`` the parameters of ``model``, by position."""
        for own, source in zip(self.parameters(), model.parameters()):
            if polyak == 1:
                own.data.copy_(source.data)
            else:
                own.data.mul_(1 - polyak).add_(source.data, alpha=polyak)

    def broadcast_parameters(self, rank: int = 0) -> None:
        """Replace this process's parameters with those of process ``rank`` (distributed runs)."""
        broadcast_tensors(self.state_dict().values(), rank)

    def reduce_parameters(self) -> None:
        """Average the gradients over all processes (one all-reduce of the concatenated gradients)."""
        average_gradients(self.parameters())
