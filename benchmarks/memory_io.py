"""Memory export (``save``) and import (``load``) per format and backend, with skrl 1.4.3's CSV row loop beside them.

    python benchmarks/memory_io.py [--transitions 1000000] [--num-envs 16] [--legacy-rows 0]

The memory holds ``transitions`` = ``memory_size * num_envs`` rows of ``states`` (64 float32), ``actions``
(8 float32), ``rewards`` (1 float32) and ``terminated`` (1 bool): 293 MB for 1,000,000 transitions. Each
(backend, format) runs in a fresh process so that its peak RSS is its own. Columns: seconds, MB/s of memory data,
size on disk, and the peak RSS *above* the filled memory (and, for import, the target memory) as a multiple of
the memory's size: under 1.0 means "under two copies in RAM". For "pt" in a JAX process, importing torch
happens before the clock and the RSS baseline. ``csv-1.4.3`` is skrl 1.4.3's ``save`` loop
(one ``writerow`` per row), timed on ``--legacy-rows`` rows (0: all) and scaled to all rows when fewer.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import operator
import os
import subprocess
import sys
import tempfile
import time

FLAVOURS = ("torch", "jax-numpy", "jax-jax")
FORMATS = ("npz", "pt", "csv", "csv-1.4.3")
SIZES = {"states": 64, "actions": 8, "rewards": 1, "terminated": 1}


def _rss(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")


def _memory(flavour: str, memory_size: int, num_envs: int, fill: bool):
    import numpy as np

    from skrl import config

    config.jax.backend = "jax" if flavour == "jax-jax" else "numpy"
    backend = flavour.split("-")[0]
    memories = __import__(f"skrl.memories.{backend}", fromlist=["RandomMemory"])
    memory = memories.RandomMemory(memory_size=memory_size, num_envs=num_envs)
    rng = np.random.default_rng(0)
    for name, size in SIZES.items():
        dtype = np.bool_ if name == "terminated" else np.float32
        if backend == "torch":
            import torch

            memory.create_tensor(name, size, dtype=torch.bool if name == "terminated" else torch.float32)
        else:
            memory.create_tensor(name, size, dtype=dtype)
        if fill:
            values = rng.random((memory_size, num_envs, size)) < 0.05 if name == "terminated" else \
                rng.standard_normal((memory_size, num_envs, size), dtype=np.float32)
            memory.set_tensor_by_name(name, torch.from_numpy(values) if backend == "torch" else values)
    memory.filled = True
    return _ready(memory)


def _ready(memory):
    """Wait for JAX's asynchronous copies, so that times and RSS cover them."""
    for tensor in memory.tensors.values():
        if hasattr(tensor, "block_until_ready"):
            tensor.block_until_ready()
    return memory


def _legacy_csv(memory, path: str, rows: int) -> None:
    """skrl 1.4.3 ``Memory.save(format="csv")``: one ``writerow`` of ``tolist()`` slices per row."""
    with open(path, "a") as file:
        writer = csv.writer(file)
        names = memory.get_tensor_names()
        views = memory.tensors_view
        headers = [[f"{name}.{i}" for i in range(views[name].shape[-1])] for name in names]
        writer.writerow([item for sublist in headers for item in sublist])
        for i in range(rows):
            writer.writerow(functools.reduce(operator.iconcat, [views[name][i].tolist() for name in names], []))


def worker(flavour: str, file_format: str, memory_size: int, num_envs: int, legacy_rows: int) -> dict:
    if file_format == "pt":
        import skrl.torch.array_ops  # noqa: F401  (a JAX process imports torch for "pt": not counted as I/O)
    memory = _memory(flavour, memory_size, num_envs, fill=True)
    size = sum(memory.memory_size * memory.num_envs * SIZES[name] * (1 if name == "terminated" else 4)
               for name in SIZES)
    result = {"bytes": size}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as directory:
        baseline = _rss("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        if file_format == "csv-1.4.3":
            rows = legacy_rows or memory_size * num_envs
            path = os.path.join(directory, "legacy.csv")
            _legacy_csv(memory, path, rows)
            scale = memory_size * num_envs / rows
            result.update(save=(time.perf_counter() - start) * scale, file=os.path.getsize(path) * scale,
                          save_rss=(_rss("VmHWM") - baseline) / size, projected=scale > 1)
            return result
        path = memory.save(directory, file_format)
        result.update(save=time.perf_counter() - start, file=os.path.getsize(path),
                      save_rss=(_rss("VmHWM") - baseline) / size)
        target = _memory(flavour, memory_size, num_envs, fill=False)
        baseline = _rss("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        target.load(path)
        _ready(target)
        result.update(load=time.perf_counter() - start, load_rss=(_rss("VmHWM") - baseline) / size)
    return result


def _row(flavour: str, file_format: str, r: dict) -> str:
    mb = r["bytes"] / 1e6
    load = f"{r['load']:7.2f} {mb / r['load']:8.0f} {r['load_rss']:9.2f}" if "load" in r else f"{'-':>7} {'-':>8} {'-':>9}"
    note = " (projected)" if r.get("projected") else ""
    return (f"{flavour:10} {file_format:10} {r['save']:7.2f} {mb / r['save']:8.0f} {r['save_rss']:9.2f} {load} "
            f"{r['file'] / 1e6:9.0f}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--legacy-rows", type=int, default=0, help="rows timed for csv-1.4.3 (0: all)")
    parser.add_argument("--flavours", nargs="+", default=list(FLAVOURS), choices=FLAVOURS)
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--worker", nargs=2, metavar=("FLAVOUR", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    memory_size = max(1, args.transitions // args.num_envs)
    if args.worker:
        print(json.dumps(worker(*args.worker, memory_size, args.num_envs, args.legacy_rows)))
        return
    print(f"{memory_size * args.num_envs:,} transitions ({memory_size} x {args.num_envs} envs), states 64 + actions 8 "
          "+ rewards 1 float32, terminated bool")
    print(f"{'backend':10} {'format':10} {'save s':>7} {'MB/s':>8} {'save RSS':>9} {'load s':>7} {'MB/s':>8} "
          f"{'load RSS':>9} {'file MB':>9}")
    for flavour in args.flavours:
        for file_format in args.formats:
            command = [sys.executable, __file__, "--worker", flavour, file_format, "--transitions",
                       str(args.transitions), "--num-envs", str(args.num_envs), "--legacy-rows", str(args.legacy_rows)]
            output = subprocess.run(command, capture_output=True, text=True)
            if output.returncode:
                print(f"{flavour:10} {file_format:10} failed: {output.stderr.strip().splitlines()[-1:]}")
                continue
            print(_row(flavour, file_format, json.loads(output.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
