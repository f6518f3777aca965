"""skrl's JAX backend draws the same random bits as JAX's default on the CPU, from loop-free programs."""

import json
import os
import subprocess
import sys

SCRIPT = """
import json
import jax
import skrl.jax

def draw(key):
    key, subkey = jax.random.split(key)
    return key, jax.random.categorical(subkey, jax.numpy.zeros((16, 5))), jax.random.normal(subkey, (3,))

key = jax.random.PRNGKey(42)
text = jax.jit(draw).lower(key).compile().as_text()
key, categorical, normal = jax.jit(draw)(key)
print(json.dumps({"loops": text.count(" while("), "key": jax.device_get(key).tolist(),
                  "categorical": jax.device_get(categorical).tolist(), "normal": jax.device_get(normal).tolist()}))
"""


def _draw(**environment):
    env = {key: value for key, value in os.environ.items() if key != "SKRL_JAX_CPU_UNROLLED_THREEFRY"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={**env, "SKRL_JAX_COMPILATION_CACHE": "0", **environment})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_unrolled_threefry_draws_jax_default_bits_without_loops():
    unrolled, default = _draw(), _draw(SKRL_JAX_CPU_UNROLLED_THREEFRY="0")
    assert default["loops"] > 0  # JAX's CPU default: threefry as a loop (if this fails, the option is moot)
    assert unrolled["loops"] == 0
    assert {k: v for k, v in unrolled.items() if k != "loops"} == {k: v for k, v in default.items() if k != "loops"}
