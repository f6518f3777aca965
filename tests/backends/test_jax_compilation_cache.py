"""JAX's persistent compilation cache: on by default (in skrl's cache directory), off with
``SKRL_JAX_COMPILATION_CACHE=0``, and a user's own JAX cache setting is kept. A second process loads the PPO
programs the first one compiled instead of compiling them again."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")

PROBE = """
import json, logging, jax
records = []
class Handler(logging.Handler):
    def emit(self, record): records.append(record.getMessage())
logging.getLogger("jax").addHandler(Handler())
logging.getLogger("jax").setLevel(logging.DEBUG)
import skrl.jax
compiled = {run}
if compiled:
    import numpy as np
    f = jax.jit(lambda x: (x * 2.0 + 1.0).sum())
    f(np.ones(7, np.float32)).block_until_ready()
print("RESULT " + json.dumps({{"dir": jax.config.jax_compilation_cache_dir,
                              "hits": sum("cache hit" in m.lower() for m in records)}}))
"""


def _probe(env, run=False):
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith(("SKRL_JAX_", "JAX_COMPILATION"))}, **env}
    done = subprocess.run([sys.executable, "-c", PROBE.format(run=run)], capture_output=True, text=True,
                          env=environment, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_cache_is_on_by_default_in_the_skrl_cache_directory(tmp_path):
    result = _probe({"XDG_CACHE_HOME": str(tmp_path)})
    assert result["dir"] == os.path.join(str(tmp_path), "skrl", "jax-compilation")


def test_cache_can_be_disabled_or_moved_and_a_users_jax_setting_is_kept(tmp_path):
    assert _probe({"SKRL_JAX_COMPILATION_CACHE": "0"})["dir"] is None
    assert _probe({"SKRL_JAX_COMPILATION_CACHE": str(tmp_path / "mine")})["dir"] == str(tmp_path / "mine")
    assert _probe({"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "users")})["dir"] == str(tmp_path / "users")


def test_a_second_process_loads_what_the_first_compiled(tmp_path):
    env = {"SKRL_JAX_COMPILATION_CACHE": str(tmp_path / "cache")}
    first, second = _probe(env, run=True), _probe(env, run=True)
    assert first["hits"] == 0
    assert second["hits"] >= 1
    assert os.listdir(tmp_path / "cache")
