"""The backend-free matcher of ``skrl.common.migration``: tables of ``{name: shape}`` descriptions, no torch or JAX."""

from __future__ import annotations

import io
import zipfile

import pytest

from skrl.common.errors import CheckpointFileError
from skrl.common.migration import (
    MigrationMappingError,
    plan_migration,
    raise_if_incomplete,
    read_source_file,
    source_entries,
    split_statistics,
)

MLP = {"net.0.weight": (8, 3), "net.0.bias": (8,), "net.2.weight": (2, 8), "net.2.bias": (2,), "log_std": (2,)}
SOURCE = {"mlp.0.weight": (8, 3), "mlp.0.bias": (8,), "mu.weight": (2, 8), "mu.bias": (2,), "sigma": (2,)}


@pytest.mark.parametrize("case", [
    dict(id="auto keeps weight, bias and neither apart", current=MLP, source=SOURCE, name_map={},
         expected={"net.0.weight": ("auto", "mlp.0.weight"), "net.0.bias": ("auto", "mlp.0.bias"),
                   "net.2.weight": ("auto", "mu.weight"), "net.2.bias": ("auto", "mu.bias"),
                   "log_std": ("auto", "sigma")}),
    dict(id="equal shapes are ambiguous", current={"a.bias": (4,), "b.bias": (4,)},
         source={"x.bias": (4,), "y.bias": (4,)}, name_map={},
         expected={"a.bias": ("ambiguous", "x.bias", "y.bias"), "b.bias": ("ambiguous", "x.bias", "y.bias")}),
    dict(id="a bias never takes a weight's place", current={"a.bias": (4,)}, source={"x.weight": (4,), "x": (4,)},
         name_map={}, expected={"a.bias": ("missing",)}),
    dict(id="name_map entries are taken out of the auto candidates", current={"a.bias": (4,), "b.bias": (4,)},
         source={"x.bias": (4,), "y.bias": (4,)}, name_map={"a.bias": "y.bias"},
         expected={"a.bias": ("name_map", "y.bias"), "b.bias": ("auto", "x.bias")}),
    dict(id="a module prefix maps everything under it", current=MLP, source=SOURCE,
         name_map={"net.0": "mlp.0", "net.2": "mu"},
         expected={"net.0.weight": ("name_map", "mlp.0.weight"), "net.2.bias": ("name_map", "mu.bias"),
                   "log_std": ("auto", "sigma")}),
    dict(id="the longest prefix wins", current={"net.0.weight": (2, 2)},
         source={"a.weight": (2, 2), "b.weight": (2, 2)},
         name_map={"net": "x", "net.0": "b"}, expected={"net.0.weight": ("name_map", "b.weight")}),
    dict(id="name_map shapes may differ by size-1 axes", current={"log_std": (2,)}, source={"actor_logstd": (1, 2)},
         name_map={"log_std": "actor_logstd"}, expected={"log_std": ("name_map", "actor_logstd")}),
    dict(id="auto needs equal shapes", current={"log_std": (2,)}, source={"actor_logstd": (1, 2)}, name_map={},
         expected={"log_std": ("missing",)}),
    dict(id="name_map shape mismatch", current={"w.weight": (2, 3)}, source={"v.weight": (3, 2)},
         name_map={"w.weight": "v.weight"}, expected={"w.weight": ("mismatch", "v.weight")}),
    dict(id="name_map source absent", current={"w.weight": (2, 3)}, source={"v.weight": (2, 3)},
         name_map={"w.weight": "nope.weight"}, expected={"w.weight": ("missing", "nope.weight")}),
], ids=lambda case: case["id"])
def test_plan_rows(case):
    plan = plan_migration(case["current"], case["source"], case["name_map"])
    rows = {row.name: (row.how, *row.sources) for row in plan.rows}
    for name, expected in case["expected"].items():
        assert rows[name] == expected


def test_auto_mapping_off_leaves_unnamed_entries_missing():
    plan = plan_migration(MLP, SOURCE, {"net.0": "mlp.0"}, auto_mapping=False)
    assert [row.name for row in plan.rows if row.how == "missing"] == ["net.2.weight", "net.2.bias", "log_std"]


def test_problems_list_ambiguous_missing_reused_and_unknown_keys():
    plan = plan_migration({"a.bias": (4,), "b.bias": (4,), "c.weight": (2, 2), "d": (3,)},
                          {"x.bias": (4,), "y.bias": (4,), "w.weight": (2, 2)},
                          {"a.bias": "x.bias", "b.bias": "x.bias", "typo.layer": "w"})
    problems = plan.problems()
    assert "model: name_map key 'typo.layer' names no parameter" in problems
    assert "model: missing: d (3,) (no source entry of this shape and suffix)" in problems
    assert "model: reused: x.bias -> [a.bias, b.bias]" in problems
    assert plan.unused == ("y.bias",)
    with pytest.raises(MigrationMappingError, match=r"nothing was loaded[\s\S]*reused: x.bias"):
        raise_if_incomplete([plan], "test.pth")


def test_complete_plan_raises_nothing_and_gives_assignments():
    plan = plan_migration(MLP, SOURCE)
    raise_if_incomplete([plan], "test.pth")
    assert plan.assignments({name: name.upper() for name in SOURCE}) == {
        "net.0.weight": "MLP.0.WEIGHT", "net.0.bias": "MLP.0.BIAS", "net.2.weight": "MU.WEIGHT",
        "net.2.bias": "MU.BIAS", "log_std": "SIGMA"}


def test_table_lists_every_row_and_unused_entries():
    table = plan_migration({"net.0.weight": (8, 3)}, SOURCE, what="policy").table().splitlines()
    assert table[0] == "Migration of policy:"
    assert table[1].split() == ["parameter", "shape", "how", "source"]
    assert table[2].split() == ["net.0.weight", "(8,", "3)", "auto", "mlp.0.weight"]
    assert table[3] == "  unused source entries: mlp.0.bias, mu.weight, mu.bias, sigma"


class Array:
    def __init__(self, *shape):
        self.shape = shape


def test_source_entries_unwrap_rl_games_and_split_normalisers():
    checkpoint = {"model": {"running_mean_std.count": Array(), "value_mean_std.running_var": Array(1),
                            "a2c_network.sigma": Array(2)}, "epoch": 3, "last_mean_rewards": 1.5}
    parameters, statistics = split_statistics(source_entries(checkpoint))
    assert list(parameters) == ["a2c_network.sigma"]
    assert {key: list(value) for key, value in statistics.items()} == {
        "state_preprocessor": ["running_mean_std.count"], "value_preprocessor": ["value_mean_std.running_var"]}
    with pytest.raises(CheckpointFileError, match="Expected a state dict"):
        source_entries([1, 2])


def test_read_source_file_dispatches_on_extension(tmp_path):
    calls = []

    def load(file, name):
        calls.append((file.read() if isinstance(file, io.BytesIO) else file, name))
        return {}

    archive = tmp_path / "ppo.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("policy.pth", b"policy bytes")
    read_source_file(str(archive), load)
    read_source_file("run/nn/Ant.pth", load)
    read_source_file("runs/ppo.cleanrl_model", load)
    assert calls == [(b"policy bytes", f"{archive}:policy.pth"), ("run/nn/Ant.pth", "run/nn/Ant.pth"),
                     ("runs/ppo.cleanrl_model", "runs/ppo.cleanrl_model")]
    with pytest.raises(CheckpointFileError, match=r"Cannot identify file type.*Received: path='agent.h5'"):
        read_source_file("agent.h5", load)
