"""CEM on torch: acting and the maximum-likelihood step on the elite episodes (the schedule is in ``common.cem``)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from skrl.common.cem import CEMSchedule
from skrl.torch.agent_base import Agent


class CEM(CEMSchedule, Agent):
    """Cross-Entropy Method (torch). Model: ``policy`` (stochastic, e.g. Categorical over a Discrete action space)."""

    _float_dtype = torch.float32
    _int_dtype = torch.int64
    _bool_dtype = torch.bool

    def _cem_build_optimizer(self) -> None:
        self._device_type = torch.device(self.device).type
        self.scaler = torch.amp.GradScaler(device=self._device_type, enabled=self._cem.mixed_precision)
        self.optimizer = self.scheduler = None
        if self.policy is None:
            return
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self._learning_rate)
        scheduler = self.cfg["learning_rate_scheduler"]
        if scheduler:
            self.scheduler = scheduler(self.optimizer, **self.cfg["learning_rate_scheduler_kwargs"])
        self.checkpoint_modules["optimizer"] = self.optimizer

    def _autocast(self) -> Any:
        return torch.autocast(device_type=self._device_type, enabled=self._cem.mixed_precision)

    def _cem_act(self, states: torch.Tensor, random: bool) -> tuple:
        with torch.no_grad(), self._autocast():
            inputs = {"states": self._state_preprocessor(states)}
            if random:
                return self.policy.random_act(inputs, role="policy")
            return self.policy.act(inputs, role="policy")

    def _cem_to_numpy(self, tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy()

    def _cem_fit(self, states: torch.Tensor, actions: torch.Tensor, weights: np.ndarray) -> torch.Tensor:
        weights = torch.as_tensor(weights, device=states.device)
        with self._autocast():
            _, log_prob, _ = self.policy.act({"states": states, "taken_actions": actions}, role="policy")
            policy_loss = -(weights * log_prob).sum() / weights.sum()
        self.optimizer.zero_grad()
        self.scaler.scale(policy_loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return policy_loss.detach()

    def _cem_step_scheduler(self, timestep: int) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    def _cem_learning_rate(self) -> Optional[float]:
        return self.scheduler.get_last_lr()[0] if self.scheduler is not None else None

    def _cem_scheduler_state(self) -> dict:
        return {"scheduler": self.scheduler.state_dict()} if self.scheduler is not None else {}

    def _cem_restore_scheduler_state(self, state: Any) -> None:
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])
