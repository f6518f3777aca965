"""Rebuild an agent from a run directory's ``run.json``, without the user's model code.

Models come back from their model-instantiator recipes; classes named in the config are resolved from an
explicit allowlist of skrl classes (never imported by arbitrary name).
"""

from __future__ import annotations

import importlib
from typing import Any, Optional

from skrl.common.run_manifest import read_manifest

_AGENTS = {"PPO": "skrl.agents.{b}.ppo"}
_PREPROCESSORS = {"RunningStandardScaler": "skrl.resources.preprocessors.{b}"}
_SCHEDULERS = {"KLAdaptiveLR": "skrl.resources.schedulers.{b}", "kl_adaptive": "skrl.resources.schedulers.{b}"}
_CLASS_KEYS = ("learning_rate_scheduler", "state_preprocessor", "value_preprocessor", "rewards_shaper")


def _resolve(name: Any, allowed: dict, what: str, backend: str) -> Any:
    if not name:
        return None
    short = str(name).rsplit(".", 1)[-1]
    if short not in allowed:
        raise ValueError(f"Cannot rebuild {what} {name!r} from run.json: supported are {sorted(allowed)}")
    return getattr(importlib.import_module(allowed[short].format(b=backend)), short)


def _models(manifest: dict, env: Any, backend: str) -> dict:
    instantiators = importlib.import_module(f"skrl.utils.model_instantiators.{backend}")
    models = {}
    for role, entry in manifest["models"].items():
        recipe = entry.get("recipe")
        if not recipe:
            raise ValueError(f"Cannot rebuild model {role!r} ({entry.get('class')}): it was not built with the model "
                             "instantiators, so run.json has no recipe. Build the agent in code and call agent.load()")
        model = getattr(instantiators, recipe["function"])(env.observation_space, env.action_space, env.device,
                                                            **recipe["kwargs"])
        model.init_state_dict(role)
        models[role] = model
    return models


def agent_from_run(run_dir: str, env: Any, backend: Optional[str] = None) -> Any:
    """A fresh agent with the run's models and config (checkpoints and tracking off), ready for ``load``."""
    manifest = read_manifest(run_dir)
    backend = backend or manifest["backend"]
    name = manifest["agent"]["class"]
    if name not in _AGENTS:
        raise ValueError(f"Cannot rebuild agent {name!r} from run.json: supported are {sorted(_AGENTS)}")
    cfg = {k: v for k, v in manifest["agent"]["config"].items() if k not in _CLASS_KEYS and not k.endswith("_kwargs")}
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    saved = manifest["agent"]["config"]
    for key, size in (("state_preprocessor", env.observation_space), ("value_preprocessor", 1)):
        cls = _resolve(saved.get(key), _PREPROCESSORS, "preprocessor", backend)
        if cls is not None:
            cfg[key], cfg[f"{key}_kwargs"] = cls, {"size": size, "device": env.device}
    scheduler = _resolve(saved.get("learning_rate_scheduler"), _SCHEDULERS, "scheduler", backend)
    if scheduler is not None:  # it shapes the JAX optimizer state, so the checkpoint only fits with it
        cfg["learning_rate_scheduler"] = scheduler
        cfg["learning_rate_scheduler_kwargs"] = dict(saved.get("learning_rate_scheduler_kwargs") or {})
    if backend == "jax":
        cfg.pop("mixed_precision", None)
    agent_cls = importlib.import_module(_AGENTS[name].format(b=backend)).PPO
    agent = agent_cls(models=_models(manifest, env, backend), memory=None, observation_space=env.observation_space,
                      action_space=env.action_space, device=env.device, cfg=cfg)
    agent.init(trainer_cfg={"timesteps": 0})
    return agent
