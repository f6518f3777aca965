"""Shared fixtures: the backend parameter and small builders used across test packages."""

import os

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
# the tests' networks are tiny: one intra-op thread is faster, and torch's spinning OpenMP threads slow everything
# down badly when the tests share a small machine with other processes
os.environ.setdefault("OMP_NUM_THREADS", "1")

BACKENDS = ("torch", "jax")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param
