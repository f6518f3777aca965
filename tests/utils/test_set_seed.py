"""set_seed: reproducible Python/NumPy/torch draws, the JAX key, distributed ranks, errors, lazy imports."""

import logging
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from skrl import config
from skrl.common.process import ProcessTopology
from skrl.utils import set_seed


@pytest.fixture(autouse=True)
def restore_jax_key():
    key = config.jax._key
    yield
    config.jax._key = key


def draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_same_seed_same_draws():
    assert set_seed(123) == 123
    first = draws()
    set_seed(123)
    assert draws() == first
    set_seed(124)
    assert draws() != first


def test_jax_key_is_set():
    set_seed(42)
    np.testing.assert_array_equal(np.asarray(config.jax.key), [0, 42])


def test_random_seed_when_none(caplog):
    with caplog.at_level(logging.INFO, logger="skrl"):
        seed = set_seed()
    assert 0 <= seed < 2**31
    assert f"Seed: {seed}" in caplog.text


def test_deterministic_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="skrl"):
        set_seed(1, deterministic=True)
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert "deterministic algorithms are enabled" in caplog.text
    torch.backends.cudnn.deterministic = False


def test_distributed_rank_is_added(monkeypatch):
    monkeypatch.setattr(config.torch, "_topology", ProcessTopology(local_rank=1, rank=3, world_size=4))
    assert set_seed(10) == 13


@pytest.mark.parametrize("seed, match", [("abc", "expected an int or None"), (-1, r"\[0, 4294967295\]"), (2**32, "Received: seed=4294967296")])
def test_invalid_seed(seed, match):
    with pytest.raises(ValueError, match=match):
        set_seed(seed)


def test_import_does_not_load_frameworks():
    code = "import sys, skrl.utils; print(any(m in sys.modules for m in ('torch', 'jax', 'flax')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
