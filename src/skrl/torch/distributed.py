"""torch.distributed for skrl: the process group (gloo on CPU, NCCL on GPU) and the few collectives agents use."""

from __future__ import annotations

import atexit
import datetime
import sys
from typing import Any, Iterable, Mapping

import numpy as np
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
    The wait is bounded, for a peer that has already died, and skipped when this process dies of an exception.
    """
    if not torch.distributed.is_initialized():
        return
    failed = getattr(sys, "last_value", None) is not None  # exiting on an uncaught exception: the peers may never come
    if torch.distributed.get_backend() == "gloo" and not failed:
        try:
            torch.distributed.barrier(async_op=True).wait(timeout=_EXIT_BARRIER_TIMEOUT)
        except RuntimeError as error:  # a peer exited or failed: nothing left to wait for
            logger.warning(f"Leaving the process group without the final barrier: {error}")
    torch.distributed.destroy_process_group()


def _collective_device() -> torch.device:
    """Where collectives' tensors live: the process's GPU for NCCL, the CPU for gloo."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", config.torch.local_rank)
    return torch.device("cpu")


def all_gather_host(tree: Mapping[str, Any]) -> list[dict]:
    """``tree`` (a flat dict of NumPy arrays, the same keys and shapes on every process) of every process, in rank
    order. Numbers travel as one float64 tensor (exact for the float32 and integer statistics), not as pickles."""
    keys = sorted(tree)
    world_size, device = config.torch.world_size, _collective_device()
    counts = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(world_size)]
    torch.distributed.all_gather(counts, torch.tensor([len(keys)], dtype=torch.int64, device=device))
    if min(int(count.item()) for count in counts) == 0:  # a process without statistics yet: exchange nothing
        return [dict(tree)] if keys else []
    arrays = [np.asarray(tree[key]) for key in keys]
    flat = torch.from_numpy(np.concatenate([a.reshape(-1).astype(np.float64) for a in arrays])).to(device)
    gathered = [torch.empty_like(flat) for _ in range(world_size)]
    torch.distributed.all_gather(gathered, flat)
    out = []
    for values in gathered:
        values, process, offset = values.cpu().numpy(), {}, 0
        for key, array in zip(keys, arrays):
            process[key] = values[offset : offset + array.size].reshape(array.shape).astype(array.dtype)
            offset += array.size
        out.append(process)
    return out


def _through_concatenation(tensors: list[torch.Tensor], collective: Any, device: Any = None, dtype: Any = None) -> None:
    """Run ``collective`` (in place) on the concatenation of ``tensors`` (moved to ``device`` and ``dtype`` when
    given), then copy each tensor's part back: one collective for any number of tensors."""
    flat = torch.cat([t.detach().reshape(-1).to(device or t.device, dtype or t.dtype) for t in tensors])
    collective(flat)
    offset = 0
    with torch.no_grad():
        for tensor in tensors:
            tensor.copy_(flat[offset : offset + tensor.numel()].view(tensor.shape))
            offset += tensor.numel()


def broadcast_tensors(tensors: Iterable[torch.Tensor], rank: int = 0) -> None:
    """Overwrite ``tensors`` (in place) with those of process ``rank``, in one broadcast (float64: integer buffers
    travel exactly too)."""
    tensors = list(tensors)
    if tensors:
        _through_concatenation(tensors, lambda flat: torch.distributed.broadcast(flat, rank), _collective_device(),
                               torch.float64)


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over every process (in place)."""
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
    return tensor.div_(config.torch.world_size)


def average_gradients(parameters: Iterable[torch.Tensor]) -> None:
    """Replace the gradients of ``parameters`` by their mean over every process, in one all-reduce of their
    concatenation (parameters without a gradient are left out: the same ones on every process)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if grads:
        _through_concatenation(grads, all_reduce_mean)
