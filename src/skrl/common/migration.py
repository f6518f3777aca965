"""Migrating parameters from rl_games, Stable-Baselines3 and CleanRL checkpoints: the backend-free part.

A model is described as ``{name: shape}`` with torch-style names and torch layouts on both backends (a Flax
``net_container/layers_0/kernel`` of shape ``(in, out)`` is described as ``net_container.0.weight`` of shape
``(out, in)``), so one ``name_map`` works for either backend. This module matches such a description against the
source entries, reports every problem at once and only then lets the backend assign arrays. Nothing is loaded when
the mapping is ambiguous or incomplete (skrl 1.4.3 loaded what it could and returned False).

Source layouts (skrl reference 4.3):

* rl_games ``.pth``: a dict whose ``"model"`` entry is the network's state dict, with the observation and value
  normalisers under ``running_mean_std.*`` and ``value_mean_std.*``;
* Stable-Baselines3 ``.zip``: the member ``policy.pth`` is the policy's state dict;
* CleanRL ``.pt``/``.pth``/``.cleanrl_model``: the agent's plain state dict.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import os
import zipfile
from typing import Any, Callable, Mapping, Optional, Sequence

from skrl._logging import logger
from skrl.common.errors import CheckpointFileError

Shape = tuple  # tuple[int, ...]

#: extensions read as torch files; ``.zip`` is a Stable-Baselines3 archive
TORCH_FILE_EXTENSIONS = (".pt", ".pth", ".cleanrl_model")
SB3_POLICY_MEMBER = "policy.pth"
#: rl_games normalises with ``(x - mean) / sqrt(var + 1e-5)``; skrl with ``(x - mean) / (sqrt(var) + 1e-8)``.
#: Adding this epsilon to the migrated variance makes both give the same outputs (and the same inverse).
RL_GAMES_EPSILON = 1e-5
#: rl_games normaliser prefix of each agent preprocessor, and the statistics' source names
NORMALIZER_PREFIXES = {"state_preprocessor": "running_mean_std", "value_preprocessor": "value_mean_std"}
STATISTICS_SOURCES = {"running_mean": "running_mean", "running_variance": "running_var", "current_count": "count"}


class MigrationMappingError(ValueError):
    """The parameters of a checkpoint cannot be mapped one-to-one onto the model: some are ambiguous, missing, reused
    or of another shape. Nothing was loaded. Fix: pass ``name_map={"<parameter>": "<source entry>"}`` (a key may also
    be a module prefix, e.g. ``{"net_container": "actor_mean"}``) for the entries the message lists."""


@dataclasses.dataclass(frozen=True)
class MigrationBackend:
    """What a backend supplies: read a source file, describe a model, assign arrays (keyed by described names)."""

    read_source: Callable[[str, Any], Any]
    describe_model: Callable[[Any], dict]
    assign_parameters: Callable[[Any, dict], None]
    assign_statistics: Callable[[Any, dict], None]


@dataclasses.dataclass(frozen=True)
class ParameterMatch:
    """One model entry: its source candidates and how they were found (``name_map``, ``auto``, ``ambiguous``,
    ``missing`` or ``mismatch``); ``note`` explains a problem."""

    name: str
    shape: Shape
    sources: tuple
    how: str
    note: str = ""

    @property
    def matched(self) -> bool:
        return self.how in ("name_map", "auto")


@dataclasses.dataclass(frozen=True)
class MigrationPlan:
    """The mapping of one module (``what``) and every problem found while building it."""

    what: str
    rows: tuple
    unused: tuple
    unknown_keys: tuple = ()

    def assignments(self, entries: Mapping[str, Any]) -> dict[str, Any]:
        """``{model name: source array}`` for the matched rows."""
        return {row.name: entries[row.sources[0]] for row in self.rows if row.matched}

    def reused(self) -> dict[str, list[str]]:
        users: dict[str, list[str]] = {}
        for row in self.rows:
            if row.matched:
                users.setdefault(row.sources[0], []).append(row.name)
        return {source: names for source, names in users.items() if len(names) > 1}

    def problems(self) -> list[str]:
        lines = [f"{self.what}: name_map key {key!r} names no parameter" for key in self.unknown_keys]
        for row in self.rows:
            if row.how == "ambiguous":
                lines.append(f"{self.what}: ambiguous: {row.name} {row.shape} <- one of [{', '.join(row.sources)}]")
            elif row.how in ("missing", "mismatch"):
                lines.append(f"{self.what}: {row.how}: {row.name} {row.shape} ({row.note})")
        lines += [f"{self.what}: reused: {source} -> [{', '.join(names)}]" for source, names in self.reused().items()]
        return lines

    def table(self) -> str:
        """The mapping as an aligned text table (one row per model entry), then the unused source entries."""
        header = ("parameter", "shape", "how", "source")
        cells = [header] + [(r.name, str(r.shape), r.how, " | ".join(r.sources) or "-") for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(3)]
        lines = [f"Migration of {self.what}:"]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3] for row in cells]
        if self.unused:
            lines.append(f"  unused source entries: {', '.join(self.unused)}")
        return "\n".join(lines)


def _suffix(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return last if last in ("weight", "bias") else ""


def _squeezed(shape: Sequence[int]) -> tuple:
    return tuple(int(d) for d in shape if d != 1)


def _explicit_source(name: str, name_map: Mapping[str, str]) -> Optional[str]:
    """The source named for ``name``: its own key, else the longest module-prefix key (``net_container`` -> ...)."""
    if name in name_map:
        return name_map[name]
    prefixes = [key for key in name_map if name.startswith(key + ".")]
    if not prefixes:
        return None
    key = max(prefixes, key=len)
    return name_map[key] + name[len(key):]


def _explicit_match(name: str, shape: Shape, source: str, shapes: Mapping[str, Shape]) -> ParameterMatch:
    """A ``name_map`` entry; shapes may differ by size-1 axes (CleanRL's ``actor_logstd`` is ``(1, A)``)."""
    if source not in shapes:
        return ParameterMatch(name, shape, (source,), "missing", f"name_map source {source!r} is not in the checkpoint")
    if _squeezed(shapes[source]) != _squeezed(shape):
        note = f"name_map source {source!r} has shape {shapes[source]}"
        return ParameterMatch(name, shape, (source,), "mismatch", note)
    return ParameterMatch(name, shape, (source,), "name_map")


def _auto_match(name: str, shape: Shape, shapes: Mapping[str, Shape], claimed: set) -> ParameterMatch:
    """Source entries of equal shape whose suffix (``.weight``, ``.bias`` or neither) is the same."""
    candidates = tuple(s for s, s_shape in shapes.items()
                       if s not in claimed and tuple(s_shape) == tuple(shape) and _suffix(s) == _suffix(name))
    if len(candidates) == 1:
        return ParameterMatch(name, shape, candidates, "auto")
    if candidates:
        return ParameterMatch(name, shape, candidates, "ambiguous")
    return ParameterMatch(name, shape, (), "missing", "no source entry of this shape and suffix")


def plan_migration(current: Mapping[str, Shape], source: Mapping[str, Shape],
                   name_map: Optional[Mapping[str, str]] = None, auto_mapping: bool = True,
                   what: str = "model") -> MigrationPlan:
    """Map every ``current`` entry to one ``source`` entry: ``name_map`` first (keys: current names or module prefixes,
    values: source names), then, if ``auto_mapping``, by equal shape and suffix among the unclaimed source entries.

    Example: ``plan_migration({"net.0.weight": (8, 3)}, {"mlp.0.weight": (8, 3), "mlp.0.bias": (8,)})`` maps
    ``net.0.weight <- mlp.0.weight`` (auto) and reports ``mlp.0.bias`` as unused.
    """
    name_map = dict(name_map or {})
    explicit = {name: _explicit_source(name, name_map) for name in current}
    claimed = {s for s in explicit.values() if s is not None}
    rows = []
    for name, shape in current.items():
        shape = tuple(shape)
        if explicit[name] is not None:
            rows.append(_explicit_match(name, shape, explicit[name], source))
        elif auto_mapping:
            rows.append(_auto_match(name, shape, source, claimed))
        else:
            rows.append(ParameterMatch(name, shape, (), "missing", "not in name_map and auto_mapping=False"))
    used = {row.sources[0] for row in rows if row.matched}
    unknown = tuple(k for k in name_map if k not in current and not any(n.startswith(k + ".") for n in current))
    return MigrationPlan(what, tuple(rows), tuple(s for s in source if s not in used), unknown)


def raise_if_incomplete(plans: Sequence[MigrationPlan], where: str, extra: Sequence[str] = ()) -> None:
    """Raise ``MigrationMappingError`` listing every problem of every plan (and ``extra`` ones), if any."""
    problems = list(extra) + [line for plan in plans for line in plan.problems()]
    if problems:
        raise MigrationMappingError(
            f"Cannot migrate {where}: nothing was loaded.\n  " + "\n  ".join(problems)
            + "\nPass name_map={'<parameter>': '<source entry>'} (or a module prefix) for these entries; "
            "verbose=True prints the whole mapping."
        )


# ---- source files and their entries ------------------------------------------------------------------------------


def read_source_file(path: str, load: Callable[[Any, str], Any]) -> Any:
    """Read ``path`` with a backend's torch ``load(file_or_path, name)``; a ``.zip`` is read through ``policy.pth``."""
    extension = os.path.splitext(str(path))[1].lower()
    if extension == ".zip":
        with zipfile.ZipFile(path) as archive:
            if SB3_POLICY_MEMBER not in archive.namelist():
                raise CheckpointFileError(f"{path!r} is not a Stable-Baselines3 archive: it has no "
                                          f"{SB3_POLICY_MEMBER!r} member (members: {', '.join(archive.namelist())})")
            member = archive.read(SB3_POLICY_MEMBER)
        return load(io.BytesIO(member), f"{path}:{SB3_POLICY_MEMBER}")
    if extension in TORCH_FILE_EXTENSIONS:
        return load(path, str(path))
    raise CheckpointFileError(
        f"Cannot identify file type: expected an rl_games/CleanRL torch file ({', '.join(TORCH_FILE_EXTENSIONS)}) or a "
        f"Stable-Baselines3 archive (.zip). Received: path={path!r}"
    )


def source_entries(checkpoint: Any) -> dict[str, Any]:
    """The parameter arrays of a read checkpoint: rl_games' ``"model"`` entry, else the state dict itself."""
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("model"), Mapping):
        checkpoint = checkpoint["model"]
    if not isinstance(checkpoint, Mapping):
        raise CheckpointFileError(f"Expected a state dict (or an rl_games dict with a 'model' entry) to migrate from. "
                                  f"Received: {type(checkpoint).__name__}")
    return {str(key): value for key, value in checkpoint.items() if hasattr(value, "shape")}


def source_shapes(entries: Mapping[str, Any]) -> dict[str, Shape]:
    return {name: tuple(int(d) for d in value.shape) for name, value in entries.items()}


def split_statistics(entries: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Separate rl_games normaliser statistics (``{preprocessor key: {source name: array}}``) from parameters."""
    parameters, statistics = {}, {}
    prefixes = {prefix + ".": key for key, prefix in NORMALIZER_PREFIXES.items()}
    for name, value in entries.items():
        key = next((k for p, k in prefixes.items() if name.startswith(p)), None)
        if key is None:
            parameters[name] = value
        else:
            statistics.setdefault(key, {})[name] = value
    return parameters, statistics


# ---- models ---------------------------------------------------------------------------------------------------------


def migrate_model(backend: MigrationBackend, model: Any, state_dict: Optional[Mapping[str, Any]] = None,
                  path: Optional[str] = None, name_map: Optional[Mapping[str, str]] = None, auto_mapping: bool = True,
                  verbose: bool = False, device: Any = None) -> bool:
    """``Model.migrate`` on either backend: map, check everything, then assign (or raise and load nothing)."""
    if (state_dict is None) == (path is None):
        raise ValueError("Exactly one of state_dict or path may be specified. "
                         f"Received: state_dict={'None' if state_dict is None else '...'}, path={path!r}")
    checkpoint = backend.read_source(path, device) if path is not None else state_dict
    entries, _ = split_statistics(source_entries(checkpoint))
    what = type(model).__name__
    plan = plan_migration(backend.describe_model(model), source_shapes(entries), name_map, auto_mapping, what)
    if verbose:
        logger.info(plan.table())
    raise_if_incomplete([plan], f"{what} from {path!r}" if path is not None else f"{what} from the given state_dict")
    backend.assign_parameters(model, plan.assignments(entries))
    model.set_mode("eval")
    return True


# ---- agents ---------------------------------------------------------------------------------------------------------


def _statistics_plan(key: str, preprocessor: Any,
                     statistics: Mapping[str, Any]) -> tuple[Optional[MigrationPlan], list[str]]:
    """Map an rl_games normaliser onto a ``RunningStandardScaler`` (or report why it cannot be)."""
    prefix = NORMALIZER_PREFIXES[key]
    if preprocessor is None and statistics:
        return None, [f"{key}: the checkpoint normalises with {prefix}.* but the agent has no {key} "
                      f"(set cfg[{key!r}] = RunningStandardScaler)"]
    if preprocessor is None:
        return None, []
    if not statistics:
        return None, [f"{key}: the agent has a {key} but the checkpoint holds no {prefix}.* statistics "
                      f"(remove it from the config, or migrate the models alone with Model.migrate)"]
    if not all(hasattr(preprocessor, name) for name in STATISTICS_SOURCES):
        return None, [f"{key}: cannot migrate statistics into {type(preprocessor).__name__} (a RunningStandardScaler "
                      "is expected)"]
    current = {name: tuple(getattr(preprocessor, name).shape) for name in STATISTICS_SOURCES}
    name_map = {name: f"{prefix}.{source}" for name, source in STATISTICS_SOURCES.items()}
    return plan_migration(current, source_shapes(statistics), name_map, auto_mapping=False, what=key), []


class AgentMigrationMixin:
    """``Agent.migrate`` for both backends (mixed into the agent core, which supplies ``checkpoint_modules``,
    ``device``, ``set_mode`` and ``_backend_name``)."""

    def migrate(self, path: str, name_map: Mapping[str, Mapping[str, str]] = {}, auto_mapping: bool = True,
                verbose: bool = False) -> bool:
        """Load an rl_games, Stable-Baselines3 or CleanRL checkpoint into this agent's models and preprocessors.

        Args:
            path: ``.pth``/``.pt``/``.cleanrl_model`` (rl_games or a plain state dict) or ``.zip`` (Stable-Baselines3).
            name_map: ``{module name: {parameter or module prefix: source entry}}``, e.g.
                ``{"policy": {"log_std_parameter": "a2c_network.sigma"}}``.
            auto_mapping: map the other parameters by equal shape and suffix (``.weight``/``.bias``/neither).
            verbose: log the mapping of each module as a table.

        rl_games normalisers go to the preprocessors: ``running_mean_std.*`` to ``state_preprocessor`` and
        ``value_mean_std.*`` to ``value_preprocessor`` (their epsilon folded into the variance). The optimizer is not
        migrated. Every module is mapped and checked before anything is assigned.

        Returns:
            True (kept from skrl 1.4.3, which returned False on failure).

        Raises:
            MigrationMappingError: listing every ambiguous, missing, reused or mismatched entry; nothing is loaded.
        """
        backend = importlib.import_module(f"skrl.{self._backend_name}.migration").BACKEND
        entries, statistics = split_statistics(source_entries(backend.read_source(path, self.device)))
        shapes = source_shapes(entries)
        model_plans = [(model, plan_migration(backend.describe_model(model), shapes, module_map, auto_mapping, label))
                       for label, model, module_map in self._models_to_migrate(name_map)]
        scaler_plans, problems = self._statistics_plans(statistics)
        if verbose:
            for _, plan in model_plans + scaler_plans:
                logger.info(plan.table())
        raise_if_incomplete([plan for _, plan in model_plans + scaler_plans], f"{path!r} into {type(self).__name__}",
                            problems)
        for model, plan in model_plans:
            backend.assign_parameters(model, plan.assignments(entries))
        for preprocessor, plan in scaler_plans:
            values = plan.assignments(statistics[plan.what])
            values["running_variance"] = values["running_variance"] + RL_GAMES_EPSILON
            backend.assign_statistics(preprocessor, values)
        self.set_mode("eval")
        return True

    def _statistics_plans(self, statistics: Mapping[str, Mapping[str, Any]]) -> tuple[list, list[str]]:
        """``(preprocessor, plan)`` for each normaliser to migrate, and the problems found."""
        plans, problems = [], []
        for key in NORMALIZER_PREFIXES:
            preprocessor = self.checkpoint_modules.get(key)
            plan, lines = _statistics_plan(key, preprocessor, statistics.get(key, {}))
            problems += lines
            if plan is not None:
                plans.append((preprocessor, plan))
        return plans, problems

    def _models_to_migrate(self, name_map: Mapping[str, Mapping[str, str]]) -> list[tuple[str, Any, dict]]:
        """``(label, model, name_map)`` for each distinct model; a model registered twice (shared) merges its maps."""
        models: dict[int, list] = {}
        for name, module in self.checkpoint_modules.items():
            if module is None or not hasattr(module, "migrate"):
                continue
            entry = models.setdefault(id(module), [[], module, {}])
            entry[0].append(name)
            entry[2].update(name_map.get(name, {}))
        unknown = [name for name in name_map if not any(name in labels for labels, _, _ in models.values())]
        if unknown:
            known = [label for labels, _, _ in models.values() for label in labels]
            raise ValueError(f"Invalid `name_map`: its keys must be model names of the agent ({', '.join(known)}). "
                             f"Received: {', '.join(map(repr, unknown))}")
        return [("/".join(labels), module, module_map) for labels, module, module_map in models.values()]

