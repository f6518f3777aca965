"""Device resolution for torch."""

from __future__ import annotations

from typing import Any, Optional

import torch

from skrl._logging import logger


def default_device() -> torch.device:
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def parse_device(device: Optional[Any], validate: bool = True) -> torch.device:
    """Resolve ``device`` to a ``torch.device``; None or an invalid spec falls back to cuda:0/cpu with a warning."""
    parsed = None
    if isinstance(device, torch.device):
        parsed = device
    elif isinstance(device, str):
        try:
            parsed = torch.device(device)
        except RuntimeError as e:
            logger.warning(f"Invalid device specification ({device}): {e}")
    if parsed is None:
        return default_device()
    if validate:
        try:
            torch.zeros((1,), device=parsed)
        except Exception as e:
            logger.warning(f"Invalid device specification ({device}): {e}")
            return default_device()
    return parsed
