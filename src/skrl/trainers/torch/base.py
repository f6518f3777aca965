"""Torch ``Trainer``: the backend hooks of the common trainer loop."""

from __future__ import annotations

from typing import Any, Callable, ContextManager

import torch

from skrl.common.trainer_core import TrainerCore, generate_equally_spaced_scopes

__all__ = ["Trainer", "generate_equally_spaced_scopes"]


class Trainer(TrainerCore):
    """Base class of the torch trainers: acting runs under ``torch.no_grad()``; actions are stacked with ``torch.vstack``."""

    backend = "torch"

    def _no_grad(self) -> ContextManager:
        return torch.no_grad()

    def _concatenate(self, actions: list) -> torch.Tensor:
        return torch.vstack(actions)

    def _is_scalar_array(self, value: Any) -> bool:
        return isinstance(value, torch.Tensor) and value.numel() == 1

    def _thread_context(self) -> Callable[[], ContextManager]:
        enabled = torch.is_grad_enabled()
        return lambda: torch.set_grad_enabled(enabled)
