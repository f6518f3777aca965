"""Device resolution for JAX."""

from __future__ import annotations

from typing import Any, Optional

import jax

from skrl._logging import logger


def parse_device(device: Optional[Any]) -> "jax.Device":
    """Resolve ``device`` (a ``jax.Device`` or ``"type[:index]"``) to a ``jax.Device``; otherwise ``jax.devices()[0]``."""
    from skrl import config

    if config.jax.is_distributed:
        from skrl.jax.distributed import ensure_initialized

        ensure_initialized()  # before JAX touches any device
        try:
            return jax.local_devices(process_index=config.jax.rank)[0]
        except Exception as e:
            logger.warning(f"Failed to get the device local to process with index/rank {config.jax.rank}: {e}")
    if isinstance(device, jax.Device):
        return device
    if isinstance(device, str):
        kind, _, index = device.partition(":")
        try:
            return jax.devices(kind)[int(index) if index else 0]
        except (RuntimeError, IndexError, ValueError) as e:
            logger.warning(f"Invalid device specification ({device}): {e}")
    return jax.devices()[0]
