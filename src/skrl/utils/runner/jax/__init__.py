"""The jax Runner (``Runner(env, cfg)``, ``Runner.load_cfg_from_yaml(path)``)."""

from skrl.common.runner_core import Runner as _Runner

__all__ = ["Runner"]


class Runner(_Runner):
    """Build models, memory, agent and trainer for jax from one config, then ``run("train")`` or ``run("eval")``."""

    backend = "jax"
