"""skrl.common is backend-free: importing any of its modules must not import torch, jax or flax."""

import pathlib
import subprocess
import sys

import skrl.common

COMMON = pathlib.Path(skrl.common.__file__).parent
MODULES = sorted(f"skrl.common.{p.stem}" for p in COMMON.glob("*.py") if p.stem != "__init__")


def test_every_common_module_is_listed():
    assert "skrl.common.agent_core" in MODULES and "skrl.common.tracking" in MODULES


def test_importing_common_leaves_frameworks_out():
    code = "\n".join(
        [f"import {m}" for m in MODULES]
        + ["import sys", "loaded = [m for m in ('torch', 'jax', 'flax', 'optax', 'orbax') if m in sys.modules]",
           "print(','.join(loaded))"]
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"skrl.common imported: {result.stdout.strip()}"
