"""Process topology read from the environment (ranks and world size), shared by both backends."""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class ProcessTopology:
    """Rank, local rank and world size of this process, as set by the launcher."""

    local_rank: int = 0
    rank: int = 0
    world_size: int = 1

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_environ(cls, local_rank_var: str, rank_var: str, world_size_var: str) -> "ProcessTopology":
        def read(name: str, default: str) -> int:
            raw = os.environ.get(name, default)
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"Invalid environment variable {name}: expected an integer. Received: {name}={raw!r}") from None

        return cls(read(local_rank_var, "0"), read(rank_var, "0"), read(world_size_var, "1"))
