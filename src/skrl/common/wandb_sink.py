"""Weights & Biases sink: one ``wandb.init`` per run (rank 0), metrics logged directly with ``global_step``."""

from __future__ import annotations

import copy
import os
from typing import Any, Mapping


def _models_config(agent: Any) -> dict:
    return {role: repr(model) for role, model in agent.models.items()}


class WandbSink:
    """Logs each interval's scalars to a W&B run (not relying on wandb's TensorBoard patching)."""

    def __init__(self, run: Any) -> None:
        self._run = run

    @classmethod
    def start(cls, agent: Any, trainer_cfg: Mapping[str, Any]) -> "WandbSink":
        try:
            import wandb
        except ImportError as e:
            raise ImportError("experiment.wandb=True needs Weights & Biases: pip install 'skrl[wandb]'") from e
        kwargs = copy.deepcopy(dict(agent.cfg["experiment"].get("wandb_kwargs", {})))
        kwargs.setdefault("name", os.path.split(agent.experiment_dir)[-1])
        kwargs.setdefault("sync_tensorboard", True)
        kwargs.setdefault("config", {})
        kwargs["config"].update({**_serialisable(agent.cfg), **_serialisable(dict(trainer_cfg)),
                                 "models": _models_config(agent)})
        return cls(wandb.init(**kwargs))

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        if scalars:
            self._run.log({**scalars, "global_step": step})

    def close(self) -> None:
        if self._run is not None:
            self._run.finish()
            self._run = None


def _serialisable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _serialisable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialisable(v) for v in value]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return getattr(value, "__name__", repr(value))
