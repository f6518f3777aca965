"""Importing skrl's JAX backend makes CPU jitted calls run on the calling thread, unless the user chose otherwise."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import jax
import skrl.jax
print("async dispatch:", jax.config.values["jax_cpu_enable_async_dispatch"])
"""


def _async_dispatch(**environment):
    env = {key: value for key, value in os.environ.items()
           if key not in ("SKRL_JAX_CPU_SYNC_DISPATCH", "JAX_CPU_ENABLE_ASYNC_DISPATCH")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={**env, **environment})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().rsplit(" ", 1)[-1]


@pytest.mark.parametrize("environment, expected", [
    ({}, "False"),
    ({"SKRL_JAX_CPU_SYNC_DISPATCH": "0"}, "True"),  # opted out: JAX's default
    ({"JAX_CPU_ENABLE_ASYNC_DISPATCH": "1"}, "True"),  # the user's own JAX setting wins
])
def test_cpu_dispatch_setting(environment, expected):
    assert _async_dispatch(**environment) == expected
