"""The torch side of the off-policy agents: target blending, optimizers and schedulers, mixed precision, sampling.

``TorchOffPolicy`` is listed before the agent's schedule in the bases (``class DDPG(TorchOffPolicy, DDPGSchedule,
Agent)``) and implements the backend hooks that ``skrl.common.off_policy.OffPolicySchedule`` declares.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

import numpy as np
import torch


@torch.no_grad()
def polyak_update(target: torch.nn.Module, source: torch.nn.Module, polyak: float) -> None:
    """``θ_target ← polyak·θ_source + (1 - polyak)·θ_target`` for every parameter, in one fused call (copy when 1)."""
    targets, sources = list(target.parameters()), list(source.parameters())
    if polyak == 1:
        torch._foreach_copy_(targets, sources)
    else:
        torch._foreach_lerp_(targets, sources, polyak)


def _adam(parameters: list[torch.Tensor], lr: float) -> torch.optim.Adam:
    """Adam, fused where torch has the fused kernel for the parameters' device: one kernel per step instead of a
    dozen small ops per tensor, which is most of the optimizer's cost for the small networks of off-policy RL."""
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.Adam(parameters, lr=lr)


class TorchOffPolicy:
    """Backend hooks of the off-policy agents on torch (see the module docstring)."""

    _float_dtype = torch.float32
    _bool_dtype = torch.bool
    _index_dtype = torch.int64
    #: more inputs of every model call of the current gradient step (the RNN variants' sampled states and dones)
    _update_inputs: Mapping[str, Any] = {}

    # attributes of the agent this mixin is combined with (for type checkers)
    cfg: dict
    device: torch.device
    memory: Any
    models: Mapping[str, Any]
    checkpoint_modules: dict
    _off: Any
    _tensors_names: list
    _average_gradients: Callable[[Iterable[torch.Tensor]], None]

    def _copy_to_target(self, target: torch.nn.Module, source: torch.nn.Module) -> None:
        target.freeze_parameters(True)
        polyak_update(target, source, 1.0)

    def _setup_training(self) -> None:
        """Mixed-precision scaler and the scheduler table; agents call it first in ``_build_optimizers``."""
        self._device_type = torch.device(self.device).type
        self.scaler = torch.amp.GradScaler(device=self._device_type, enabled=bool(self._off.mixed_precision))
        self._schedulers: dict[str, Any] = {}

    def _autocast(self) -> Any:
        return torch.autocast(device_type=self._device_type, enabled=bool(self._off.mixed_precision))

    def _make_optimizer(self, name: str, parameters: Iterable[torch.Tensor], lr: float, group: Optional[str] = None,
                        scheduler_name: Optional[str] = None) -> torch.optim.Optimizer:
        """Adam over ``parameters`` as ``self.<name>`` (checkpointed); with a configured scheduler and a ``group``,
        also ``self.<scheduler_name>`` (default ``<group>_scheduler``), stepped after every gradient step."""
        optimizer = _adam(list(parameters), lr)
        setattr(self, name, optimizer)
        self.checkpoint_modules[name] = optimizer
        scheduler_class = self.cfg["learning_rate_scheduler"]
        if group is not None and scheduler_class:
            scheduler = scheduler_class(optimizer, **self.cfg["learning_rate_scheduler_kwargs"])
            self._schedulers[group] = scheduler
            setattr(self, scheduler_name or f"{group}_scheduler", scheduler)
        return optimizer

    def _optimizer_step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor, grad_norm_clip: float = 0) -> None:
        """Gradients of the (scaled) loss for this optimizer's parameters only, optional gradient-norm clipping, step.

        Only the optimizer's parameters get gradients: a policy loss runs backward through the critics to their
        inputs, but not into the critics' weights (``loss.backward()`` would compute those too, for nothing).
        In a distributed run the gradients are averaged over the processes first (the clipping sees the mean), so
        that every process takes the same step.
        """
        parameters = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        grads = torch.autograd.grad(self.scaler.scale(loss), parameters, allow_unused=True)
        for parameter, grad in zip(parameters, grads):
            parameter.grad = grad
        self._average_gradients(parameters)
        if grad_norm_clip > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(parameters, grad_norm_clip)
        self.scaler.step(optimizer)

    def _step_schedulers(self, policy_stepped: bool = True) -> None:
        """Step the scheduler of every optimizer that stepped (TD3's policy steps only on delayed steps)."""
        for group, scheduler in self._schedulers.items():
            if policy_stepped or group != "policy":
                scheduler.step()

    def _learning_rate(self, group: str) -> float:
        return self._schedulers[group].get_last_lr()[0]

    def _sample_batch(self) -> list[torch.Tensor]:
        return self.memory.sample(self._tensors_names, self._off.batch_size)[0]

    def _action_clipper(self, bounds: Optional[tuple]) -> Any:
        """A function clamping actions to ``bounds`` (``(low, high)`` arrays), or the identity."""
        if bounds is None:
            return lambda actions: actions
        low, high = (torch.as_tensor(np.asarray(b, dtype=np.float32), device=self.device) for b in bounds)
        return lambda actions: torch.clamp(actions, min=low, max=high)

    def _check_noise(self, key: str, noise: Any) -> None:
        if not callable(getattr(noise, "sample", None)):
            raise TypeError(f"Invalid `{key}`: expected a noise with a `sample(size)` method (e.g. "
                            f"skrl.resources.noises.torch.GaussianNoise). Received: {noise!r}")

    def _noise_state_from_host(self, noise: Any, state: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(state), dtype=torch.float32, device=getattr(noise, "device", self.device))

    def _algorithm_state(self) -> dict:
        schedulers = {group: scheduler.state_dict() for group, scheduler in self._schedulers.items()}
        return {**super()._algorithm_state(), "schedulers": schedulers}  # type: ignore[misc]

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)  # type: ignore[misc]
        for group, scheduler_state in (state.get("schedulers") or {}).items():
            if group in self._schedulers:
                self._schedulers[group].load_state_dict(scheduler_state)

