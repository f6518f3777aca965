"""torch.distributed for skrl: the process group (gloo on CPU, NCCL on GPU) and the few collectives agents use."""

from __future__ import annotations

import atexit
import datetime
from typing import Any, Iterable

import torch

from skrl import config
from skrl._logging import logger

#: the longest a process waits at exit for its peers' final barrier
_EXIT_BARRIER_TIMEOUT = datetime.timedelta(seconds=30)


def ensure_process_group() -> None:
    """Join the process group of a ``torchrun`` launch (once; a no-op when not distributed or already joined)."""
    if not config.torch.is_distributed or torch.distributed.is_initialized():
        return
    topology = config.torch
    logger.info(f"Distributed (rank: {topology.rank}, local rank: {topology.local_rank}, "
                f"world size: {topology.world_size})")
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend, rank=topology.rank, world_size=topology.world_size)
    atexit.register(_leave_process_group)
    if backend == "nccl":
        torch.cuda.set_device(topology.local_rank)


def _leave_process_group() -> None:
    """Leave the process group while the interpreter is fully alive.

    A gloo worker thread frees a finished collective's tensors after the caller has moved on, and freeing a tensor
    that Python has already released takes the GIL. If that happens once the interpreter has begun to finalize, the
    thread is killed inside a destructor and the process aborts ("terminate called without an active exception"),
    failing a run that had finished. ``destroy_process_group`` alone does not stop gloo's threads, so a last barrier
    comes first: the caller waits for it without the GIL, so every worker can finish freeing the earlier collectives.
    The wait is bounded, for a peer that has already died.
    """
    if not torch.distributed.is_initialized():
        return
    if torch.distributed.get_backend() == "gloo":
        try:
            torch.distributed.barrier(async_op=True).wait(timeout=_EXIT_BARRIER_TIMEOUT)
        except RuntimeError as error:  # a peer exited or failed: nothing left to wait for
            logger.warning(f"Leaving the process group without the final barrier: {error}")
    torch.distributed.destroy_process_group()


def all_gather_objects(value: Any) -> list:
    """``value`` of every process, in rank order (small host objects: statistics, flags)."""
    gathered: list = [None] * config.torch.world_size
    torch.distributed.all_gather_object(gathered, value)
    return gathered


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over every process (in place)."""
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
    return tensor.div_(config.torch.world_size)


def average_gradients(parameters: Iterable[torch.Tensor]) -> None:
    """Replace the gradients of ``parameters`` by their mean over every process, in one all-reduce of their
    concatenation (parameters without a gradient are left out: the same ones on every process)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = all_reduce_mean(torch.cat([g.reshape(-1) for g in grads]))
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()
