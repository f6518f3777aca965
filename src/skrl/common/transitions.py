"""Storing a transition the way every memory-based agent does: shape the rewards, then add to every memory."""

from __future__ import annotations

from typing import Any, Callable, Optional


def store_transition(memories: list, rewards_shaper: Optional[Callable], timestep: int, timesteps: int,
                     rewards: Any, **samples: Any) -> Any:
    """Apply ``rewards_shaper(rewards, timestep, timesteps)`` (when set), add the samples with the shaped rewards to
    each memory (``None`` entries are skipped) and return the shaped rewards."""
    if rewards_shaper is not None:
        rewards = rewards_shaper(rewards, timestep, timesteps)
    for memory in memories:
        if memory is not None:
            memory.add_samples(rewards=rewards, **samples)
    return rewards
