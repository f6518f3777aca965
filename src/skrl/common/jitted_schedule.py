"""When a fully jitted training loop hands control back to the host: the chunks of rollout/update iterations.

A jitted trainer runs whole iterations (``rollouts`` env steps, then an update) on the device, several at a
time. It returns to the host only where the experiment data layer has something to do: at a write interval
(TensorBoard scalars, best model), at a checkpoint interval, and at the end. Pure: no I/O, no backend.

With ``rollouts=128``, ``write_interval=256`` and ``checkpoint_interval=512`` starting at 0 for 1024 steps, the
chunks end at 256 (write), 512 (write and checkpoint), 768 (write) and 1024 (write and checkpoint), each of two
iterations. An interval that is not a multiple of ``rollouts`` fires at the end of the iteration that crosses
it (labelled with that iteration's last step).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Chunk:
    """``iterations`` consecutive iterations ending at the 1-based timestep ``end``, then what to write there."""

    iterations: int
    end: int
    write: bool
    checkpoint: bool


def crosses_interval(interval: int, low: int, high: int) -> bool:
    """Whether a multiple of ``interval`` (other than step 1) lies in the 1-based steps ``(low, high]``.

    This is ``IntervalPolicy.should_fire`` for a run of steps instead of one step: ``crosses_interval(100, 64, 128)``
    is True, ``crosses_interval(100, 128, 192)`` is False, an ``interval <= 0`` never fires.
    """
    if interval <= 0:
        return False
    last_multiple = (high // interval) * interval
    return last_multiple > low and last_multiple > 1


def plan_chunks(start: int, timesteps: int, rollouts: int, write_interval: int, checkpoint_interval: int) -> list[Chunk]:
    """The chunks of whole iterations that run the steps ``start + 1 .. timesteps`` (1-based; ``start`` is done).

    Steps left after the last whole iteration (``(timesteps - start) % rollouts`` of them) are not run.
    """
    if rollouts < 1:
        raise ValueError(f"Invalid `rollouts`: expected an int >= 1. Received: rollouts={rollouts!r}")
    iterations = max(0, (timesteps - start) // rollouts)
    chunks, pending = [], 0
    for index in range(1, iterations + 1):
        end = start + index * rollouts
        write = crosses_interval(write_interval, end - rollouts, end)
        checkpoint = crosses_interval(checkpoint_interval, end - rollouts, end)
        pending += 1
        if write or checkpoint or index == iterations:
            chunks.append(Chunk(pending, end, write, checkpoint))
            pending = 0
    return chunks
