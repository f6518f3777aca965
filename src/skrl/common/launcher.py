"""Multi-process launcher for JAX runs (torch runs use ``torchrun``): one child process per local rank.

``python -m skrl.utils.distributed.jax --nnodes N --nproc-per-node M --node-rank R --coordinator-address ip:port
script.py [args...]`` starts ``M`` copies of ``script.py`` with ``JAX_LOCAL_RANK``, ``JAX_RANK``, ``JAX_WORLD_SIZE``,
``JAX_COORDINATOR_ADDR`` and ``JAX_COORDINATOR_PORT`` set, waits for them, and exits with the first failure's code
(the other children are stopped then).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Optional, Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skrl.utils.distributed.jax",
                                     description="Launch a JAX script on several processes")
    parser.add_argument("--nnodes", type=int, default=1, help="number of nodes")
    parser.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, help="processes on this node")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0, help="rank of this node")
    parser.add_argument("--coordinator-address", "--coordinator_address", default="127.0.0.1:5000",
                        help="ip:port of process 0")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def child_environments(nnodes: int, nproc_per_node: int, node_rank: int, coordinator_address: str) -> list[dict]:
    """The environment variables of each child process of this node."""
    for name, value in (("nnodes", nnodes), ("nproc-per-node", nproc_per_node)):
        if value < 1:
            raise ValueError(f"Invalid --{name}: expected an int >= 1. Received: {value}")
    if not 0 <= node_rank < nnodes:
        raise ValueError(f"Invalid --node-rank: expected 0 <= node rank < nnodes ({nnodes}). Received: {node_rank}")
    address, _, port = coordinator_address.rpartition(":")
    if not address or not port.isdigit():
        raise ValueError(f"Invalid --coordinator-address: expected 'ip:port'. Received: {coordinator_address!r}")
    world_size = nnodes * nproc_per_node
    return [{"JAX_LOCAL_RANK": str(local), "JAX_RANK": str(node_rank * nproc_per_node + local),
             "JAX_WORLD_SIZE": str(world_size), "JAX_COORDINATOR_ADDR": address, "JAX_COORDINATOR_PORT": port}
            for local in range(nproc_per_node)]


def launch(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        environments = child_environments(args.nnodes, args.nproc_per_node, args.node_rank, args.coordinator_address)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    children = [subprocess.Popen([sys.executable, args.script, *args.script_args], env={**os.environ, **extra})
                for extra in environments]
    code = 0
    while children:
        for child in list(children):
            status = child.poll()
            if status is None:
                continue
            children.remove(child)
            if status and not code:
                code = status
                for other in children:
                    other.terminate()
        time.sleep(0.05)
    return code
