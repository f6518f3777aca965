"""``run.json``: what a run directory holds and how it was made, and how to pick a checkpoint from it.

The manifest records library and framework versions, the backend, the agent class and its full config, the
trainer config, the environment id and seed when known, how the models were built (model-instantiator recipes),
and every checkpoint with its timestep and reward. ``find_checkpoint`` and ``python -m skrl eval RUN_DIR`` use it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from typing import Any, Mapping, Optional

from skrl.common.atomic_files import atomic_write, is_temporary
from skrl.common.checkpoint_policy import CHECKPOINTS_SUBDIR

MANIFEST_NAME = "run.json"
MANIFEST_FORMAT = 1
_FRAMEWORKS = {"torch": ("torch",), "jax": ("jax", "flax", "optax", "orbax-checkpoint")}


def jsonable(value: Any) -> Any:
    """Config values as JSON: classes and functions by qualified name, other objects by ``repr``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, bool, type(None))):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def _version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _models_entry(models: Mapping[str, Any]) -> dict:
    """Each model's class and instantiator recipe; multi-agent ``{uid: {role: model}}`` dicts keep their nesting."""
    entry = {}
    for name, model in models.items():
        if isinstance(model, Mapping):
            entry[name] = _models_entry(model)
        else:
            recipe = getattr(model, "instantiator_recipe", None)
            entry[name] = {"class": f"{type(model).__module__}.{type(model).__qualname__}", "recipe": recipe}
    return entry


def build_manifest(backend: str, agent: Any, trainer_cfg: Mapping[str, Any], seed: Optional[int]) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "skrl_version": _version("skrl"),
        "frameworks": {name: _version(name) for name in _FRAMEWORKS[backend]},
        "backend": backend,
        "agent": {"class": type(agent).__name__, "config": jsonable(agent.cfg)},
        "trainer": jsonable(dict(trainer_cfg)),
        "environment": {},
        "seed": seed,
        "spaces": {"observation": jsonable(agent.observation_space), "action": jsonable(agent.action_space)},
        "models": _models_entry(agent.models),
        "checkpoints": [],
        "best": None,
    }


def manifest_path(run_dir: str) -> str:
    return os.path.join(run_dir, MANIFEST_NAME)


def encode_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as written to disk (a snapshot: later changes to ``manifest`` do not affect it)."""
    return json.dumps(manifest, indent=2, sort_keys=False).encode()


def write_manifest_bytes(run_dir: str, data: bytes) -> None:
    with atomic_write(manifest_path(run_dir)) as file:
        file.write(data)


def write_manifest(run_dir: str, manifest: Mapping[str, Any]) -> None:
    write_manifest_bytes(run_dir, encode_manifest(manifest))


def read_manifest(run_dir: str) -> dict:
    path = manifest_path(run_dir)
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"No {MANIFEST_NAME} in {run_dir!r}: is it a skrl run directory?") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path!r} is not valid JSON ({e})") from None


def record_checkpoint(manifest: dict, timestep: int, files: list[str], reward: Optional[float],
                      best: Optional[Mapping[str, Any]]) -> dict:
    """Add a checkpoint entry (and the current best) to ``manifest``; returns it."""
    entries = [c for c in manifest["checkpoints"] if c["timestep"] != timestep]
    entries.append({"timestep": int(timestep), "files": files, "reward": jsonable(reward)})
    manifest["checkpoints"] = sorted(entries, key=lambda c: c["timestep"])
    if best is not None:
        manifest["best"] = jsonable(dict(best))
    return manifest


_PERIODIC = re.compile(r"^agent_(\d+)(\.pt|\.pickle)?$")


def find_checkpoint(run_dir: str, which: str = "best") -> str:
    """Path of the ``"best"`` or ``"latest"`` grouped checkpoint of a run directory (torch file or orbax directory)."""
    if which not in ("best", "latest"):
        raise ValueError(f"Invalid `which`: expected 'best' or 'latest'. Received: which={which!r}")
    directory = os.path.join(run_dir, CHECKPOINTS_SUBDIR)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"No checkpoints in {run_dir!r} (expected a {CHECKPOINTS_SUBDIR!r} folder)")
    names = [n for n in os.listdir(directory) if not is_temporary(n)]
    if which == "best":
        best = [n for n in names if re.fullmatch(r"best_agent(\.pt|\.pickle)?", n)]
        if best:
            return os.path.join(directory, best[0])
    periodic = sorted(((int(m.group(1)), n) for n in names if (m := _PERIODIC.match(n))), reverse=True)
    if not periodic:
        raise FileNotFoundError(f"No grouped checkpoint (agent_<timestep>) in {directory!r}")
    return os.path.join(directory, periodic[0][1])
