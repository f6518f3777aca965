"""Harness for test_checkpoint_safety.py (run as a subprocess): SIGKILL checkpoint writers at random moments.

    python checkpoint_kill_worker.py BACKEND DIRECTORY KILLS

Each round forks a child that writes ``agent_<i>`` and rewrites ``best_agent`` in a loop, kills it at a random
moment, and snapshots the directory (hard links). Nothing touches the framework's runtime in this process before
the last fork, so the children start clean. At the end every snapshot is checked: each final name must load and
hold one consistent checkpoint; the newest ``agent_<i>`` must load. Prints a JSON summary.
"""

import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np


def _savers(backend):
    if backend == "torch":
        import torch

        from skrl.torch.checkpoint_io import load_state, save_state

        return (lambda i, n: {"policy": {"w": torch.full((n,), float(i))}, "step": i}), save_state, \
            (lambda p: load_state(p, "cpu")), ".pt"
    from skrl.jax.checkpoint_io import load_state, save_state

    return (lambda i, n: {"policy": {"w": np.full((n,), float(i), np.float32)}, "step": np.asarray(i)}), \
        save_state, load_state, ""


def _write_forever(make, save, ext, directory, start):
    from skrl.common.atomic_files import temporary_path_for

    rng = np.random.default_rng(start)
    for i in itertools.count(start):
        state = make(i, int(rng.integers(1000, 200_000)))
        save(state, os.path.join(directory, f"agent_{i}{ext}"))
        save(state, os.path.join(directory, f"best_agent{ext}"))
        old = os.path.join(directory, f"agent_{i - 2}{ext}")  # keep the last two, like a retention policy
        if os.path.exists(old):  # deleted atomically too: renamed to a temporary name first
            doomed = temporary_path_for(old)
            os.replace(old, doomed)
            shutil.rmtree(doomed) if os.path.isdir(doomed) else os.remove(doomed)


def _check(snapshot, load):
    from skrl.common.atomic_files import is_temporary

    steps = []
    for name in os.listdir(snapshot):
        if is_temporary(name):
            continue
        state = load(os.path.join(snapshot, name))
        step = int(state["step"])
        w = np.asarray(state["policy"]["w"])
        if not (w[0] == step and w[-1] == step):
            raise AssertionError(f"{name}: inconsistent content")
        if name.startswith("agent_"):
            steps.append(int(re.findall(r"\d+", name)[0]))
            if step != steps[-1]:
                raise AssertionError(f"{name} holds step {step}")
    return max(steps) if steps else None


def _start_child(backend, directory, start):
    """torch: fork (cheap, torch.save is plain file I/O); JAX: a fresh interpreter (tensorstore's threads do not
    survive a fork, so a forked orbax writer is not what users run)."""
    if backend == "torch":
        pid = os.fork()
        if pid == 0:
            try:
                make, save, _, ext = _savers(backend)
                _write_forever(make, save, ext, directory, start)
            finally:
                os._exit(0)
        return pid
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            "import checkpoint_kill_worker as w; make, save, _, ext = w._savers('jax'); "
            f"save(make(0, 10), {os.path.join(directory, '..', f'warm-up-{start}')!r}); print('ready', flush=True); "
            f"w._write_forever(make, save, ext, {directory!r}, {start})")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child.stdout.readline()  # imports and a first (scratch) write done: kill during writes, not during start-up
    return child


def _kill(child):
    if isinstance(child, int):
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    else:
        child.kill()
        child.wait()


def _stream(backend, directory, kills, seed, snapshots):
    work = os.path.join(directory, f"work{seed}")
    os.makedirs(work)
    rng, start = random.Random(seed), 0
    for k in range(kills):
        child = _start_child(backend, work, start)
        time.sleep(rng.uniform(0.02, 0.5 if backend == "torch" else 0.8))
        _kill(child)
        snapshot = os.path.join(directory, f"snap{seed}_{k}")
        shutil.copytree(work, snapshot, copy_function=os.link)
        snapshots.append(snapshot)
        done = [int(re.findall(r"\d+", n)[0]) for n in os.listdir(work) if n.startswith("agent_") and "tmp" not in n]
        start = max(done) + 1 if done else start


def main(backend, directory, kills):
    streams = 1 if backend == "torch" else 2  # JAX children start slowly: two independent streams in parallel
    if backend == "torch":
        _savers(backend)  # import before forking, so that children start writing at once
    snapshots = [[] for _ in range(streams)]
    threads = [threading.Thread(target=_stream, args=(backend, directory, kills // streams, i, snapshots[i]))
               for i in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load = _savers(backend)[2]
    newest = [[_check(s, load) for s in stream] for stream in snapshots]
    print(json.dumps({"kills": sum(map(len, newest)), "newest": newest}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
