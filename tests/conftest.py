"""Shared fixtures: the backend parameter and small builders used across test packages."""

import os

import pytest

os.environ.setdefault("WANDB_MODE", "offline")

BACKENDS = ("torch", "jax")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param
