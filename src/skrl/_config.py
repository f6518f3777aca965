"""``skrl.config``: per-backend runtime settings (device, PRNG key, array backend, distributed topology).

Reading a device or a key imports the framework the first time; importing ``skrl`` does not.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from skrl.common.process import ProcessTopology

_JAX_BACKENDS = ("numpy", "jax")


class _ProcessConfig:
    """Process topology properties shared by both backends' sections (read from the launcher's variables)."""

    _topology: ProcessTopology

    local_rank = property(lambda self: self._topology.local_rank)
    rank = property(lambda self: self._topology.rank)
    world_size = property(lambda self: self._topology.world_size)
    is_distributed = property(lambda self: self._topology.is_distributed)


class _TorchConfig(_ProcessConfig):
    def __init__(self) -> None:
        self._topology = ProcessTopology.from_environ("LOCAL_RANK", "RANK", "WORLD_SIZE")
        # None resolves to cuda:<local rank> when CUDA is available, else cpu (skrl 1.4.3 read cuda:0 on CPU-only
        # machines, and cuda:<local rank> in distributed CPU runs)
        self._device: Any = None
        self._parsed: Any = None

    @staticmethod
    def parse_device(device: Any, validate: bool = True) -> Any:
        """Resolve ``device`` (``torch.device``, ``"cpu"``, ``"cuda:0"``, None) to a usable ``torch.device``."""
        from skrl.torch.devices import parse_device

        return parse_device(device, validate=validate)

    @property
    def device(self) -> Any:
        if self._parsed is None:
            device = self._device
            if device is None and self.is_distributed:
                import torch

                device = f"cuda:{self.local_rank}" if torch.cuda.is_available() else "cpu"
            self._parsed = self.parse_device(device, validate=False)
        return self._parsed

    @device.setter
    def device(self, value: Any) -> None:
        self._device = value
        self._parsed = None


class _JaxConfig(_ProcessConfig):
    def __init__(self) -> None:
        self._topology = ProcessTopology.from_environ("JAX_LOCAL_RANK", "JAX_RANK", "JAX_WORLD_SIZE")
        self._backend = "numpy"
        self._key: Any = np.array([0, 0], dtype=np.uint32)
        self._device: Any = None
        self._parsed: Any = None

    @property
    def coordinator_address(self) -> str:
        addr = os.environ.get("JAX_COORDINATOR_ADDR", "127.0.0.1")
        port = os.environ.get("JAX_COORDINATOR_PORT", "1234")
        return f"{addr}:{port}"

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in _JAX_BACKENDS:
            raise ValueError(
                f"Invalid jax backend. Supported values are: {', '.join(_JAX_BACKENDS)}. Received: backend={value!r}"
            )
        self._backend = value

    @staticmethod
    def parse_device(device: Any) -> Any:
        """Resolve ``device`` (``jax.Device``, ``"cpu"``, ``"cuda:0"``, None) to a ``jax.Device``."""
        from skrl.jax.devices import parse_device

        return parse_device(device)

    @property
    def device(self) -> Any:
        if self._parsed is None:
            self._parsed = self.parse_device(self._device)
        return self._parsed

    @device.setter
    def device(self, value: Any) -> None:
        self._device = value
        self._parsed = None
        if not isinstance(self._key, np.ndarray):
            import jax

            self._key = np.asarray(jax.device_get(self._key))

    @property
    def key(self) -> Any:
        if isinstance(self._key, np.ndarray):
            try:
                import jax
            except ImportError:
                return self._key
            with jax.default_device(self.device):
                self._key = jax.random.PRNGKey(int(self._key[1]))
        return self._key

    @key.setter
    def key(self, value: Any) -> None:
        if isinstance(value, (int, float, np.integer, np.floating)):
            value = np.array([0, int(value)], dtype=np.uint32)
        self._key = value


class _Config:
    def __init__(self) -> None:
        self.torch = _TorchConfig()
        self.jax = _JaxConfig()


config = _Config()
