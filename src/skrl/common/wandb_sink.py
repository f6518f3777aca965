"""Weights & Biases sink: one ``wandb.init`` per run (rank 0), metrics logged directly with ``global_step``.

How metrics reach W&B (and why each value arrives once):

* ``wandb.init`` gets skrl's defaults (``name`` = experiment directory name, ``sync_tensorboard=True``, ``config``
  updated with the agent, trainer and model configs even when the user set one), user ``wandb_kwargs`` first.
* Every interval, the sink logs the scalars itself: ``run.log({tag: value, ..., "global_step": step})``, with
  ``global_step`` declared as the x-axis of every metric. This does not depend on wandb's TensorBoard patching.
* The agent's own TensorBoard writer is never tailed by W&B (see ``tracking.SummaryWriter``), so these values are
  not delivered a second time through ``sync_tensorboard``. Scalars a user writes with ``agent.writer.add_scalar``
  are forwarded to W&B by the same writer. ``sync_tensorboard`` still applies to other TensorBoard writers
  the user creates.
* ``close()`` finishes the run; a later write (e.g. ``trainer.eval()`` after ``trainer.train()``) resumes it.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Mapping, Optional

STEP_METRIC = "global_step"


def _import_wandb() -> Any:
    try:
        import wandb
    except ImportError as e:
        raise ImportError("experiment.wandb=True needs Weights & Biases: pip install 'skrl[wandb]'") from e
    return wandb


def _models_config(agent: Any) -> dict:
    return {role: repr(model) for role, model in agent.models.items()}


def init_kwargs(agent: Any, trainer_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``wandb.init`` kwargs: the user's ``wandb_kwargs`` with skrl's defaults and the run's config added.

    Config keys, later ones winning: the agent config, the trainer config, then one entry per model role.
    """
    kwargs = copy.deepcopy(dict(agent.cfg["experiment"].get("wandb_kwargs") or {}))
    kwargs.setdefault("name", os.path.split(os.path.normpath(agent.experiment_dir))[-1])
    kwargs.setdefault("sync_tensorboard", True)
    config = kwargs.get("config") or {}
    if not isinstance(config, Mapping):
        raise TypeError("Invalid `experiment.wandb_kwargs['config']`: expected a dict (skrl adds the agent, trainer "
                        f"and model configs to it). Received: config={config!r}")
    kwargs["config"] = dict(config)
    kwargs["config"].update({**_serialisable(agent.cfg), **_serialisable(dict(trainer_cfg)), **_models_config(agent)})
    return kwargs


class WandbSink:
    """Logs each interval's scalars to a W&B run, with ``global_step`` as the x-axis."""

    def __init__(self, kwargs: Mapping[str, Any]) -> None:
        self._kwargs = dict(kwargs)
        self._run: Any = None
        self._run_id: Optional[str] = None

    @classmethod
    def start(cls, agent: Any, trainer_cfg: Mapping[str, Any]) -> "WandbSink":
        """Start the run now, so that config errors show at ``agent.init``."""
        sink = cls(init_kwargs(agent, trainer_cfg))
        sink.open()
        return sink

    def open(self) -> Any:
        """The W&B run, initialised on first use (and resumed after ``close``)."""
        if self._run is None:
            wandb = _import_wandb()
            kwargs = dict(self._kwargs)
            if self._run_id is not None:
                kwargs.update(id=self._run_id, resume="allow")
            self._run = wandb.init(**kwargs)
            self._run.define_metric(STEP_METRIC)
            self._run.define_metric("*", step_metric=STEP_METRIC)
            self._run_id = self._run.id
        return self._run

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        if scalars:
            self.open().log({**scalars, STEP_METRIC: step})

    def log_scalar(self, tag: str, value: float, step: Optional[int]) -> None:
        """One scalar written by the user to ``agent.writer``."""
        self.open().log({tag: value} if step is None else {tag: value, STEP_METRIC: int(step)})

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
