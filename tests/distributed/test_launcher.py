"""The JAX launcher: each child gets its ranks and the coordinator; bad arguments are refused with the reason."""

import subprocess
import sys

import pytest

from skrl.common.launcher import child_environments


def test_children_of_the_second_node_get_global_ranks():
    children = child_environments(nnodes=2, nproc_per_node=2, node_rank=1, coordinator_address="10.0.0.1:5000")
    assert [(c["JAX_LOCAL_RANK"], c["JAX_RANK"], c["JAX_WORLD_SIZE"]) for c in children] == [("0", "2", "4"), ("1", "3", "4")]
    assert {(c["JAX_COORDINATOR_ADDR"], c["JAX_COORDINATOR_PORT"]) for c in children} == {("10.0.0.1", "5000")}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"nnodes": 0}, "--nnodes"), ({"nproc_per_node": 0}, "--nproc-per-node"), ({"node_rank": 1}, "--node-rank"),
    ({"coordinator_address": "localhost"}, "ip:port")])
def test_bad_arguments_name_the_option(kwargs, message):
    args = {"nnodes": 1, "nproc_per_node": 1, "node_rank": 0, "coordinator_address": "127.0.0.1:5000", **kwargs}
    with pytest.raises(ValueError, match=message):
        child_environments(**args)


def test_a_failing_child_fails_the_launch(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import os, sys\nsys.exit(3 if os.environ['JAX_RANK'] == '1' else 0)\n")
    result = subprocess.run([sys.executable, "-m", "skrl.utils.distributed.jax", "--nproc-per-node", "2", str(script)],
                            timeout=60)
    assert result.returncode == 3
