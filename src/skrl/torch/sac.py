"""SAC on torch: stochastic acting and the gradient step with entropy-coefficient learning (schedule in ``common.sac``).

As in skrl 1.4.3 torch, both critics share one ``critic_optimizer``. The learned ``log_entropy_coefficient`` is
kept in the checkpoint's resume state, so that a resumed run continues with the same coefficient.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.common.sac import SACSchedule, log_entropy_coefficient
from skrl.torch.agent_base import Agent
from skrl.torch.off_policy_ops import TorchOffPolicy, polyak_update


class SAC(TorchOffPolicy, SACSchedule, Agent):
    """Soft Actor-Critic (torch). Models: ``policy`` (stochastic, e.g. Gaussian), ``critic_1``, ``critic_2``,
    ``target_critic_1``, ``target_critic_2`` (one output from ``states`` and ``taken_actions``)."""

    def _build_optimizers(self) -> None:
        self._setup_training()
        cfg = self._off
        self._entropy_coefficient = torch.tensor(float(cfg.initial_entropy_value), device=self.device)
        if cfg.learn_entropy:
            value = log_entropy_coefficient(cfg.initial_entropy_value)
            self.log_entropy_coefficient = torch.full((1,), value, device=self.device, requires_grad=True)
            self._make_optimizer("entropy_optimizer", [self.log_entropy_coefficient], cfg.entropy_learning_rate)
        critics = [self.models.get(role) for role in self.critic_roles]
        if self.models.get("policy") is None or None in critics:
            return
        self._make_optimizer("policy_optimizer", self.models["policy"].parameters(), cfg.actor_learning_rate,
                             group="policy")
        self._make_optimizer("critic_optimizer", [p for critic in critics for p in critic.parameters()],
                             cfg.critic_learning_rate, group="critic")

    def _stochastic_act(self, states: torch.Tensor) -> tuple:
        with torch.no_grad(), self._autocast():
            actions, _, outputs = self.policy.act({"states": self._state_preprocessor(states), **self._act_inputs()},
                                                  role="policy")
        return actions, None, outputs

    def _min_critic_value(self, roles: tuple, states: torch.Tensor, actions: torch.Tensor) -> tuple:
        inputs = {"states": states, "taken_actions": actions, **self._update_inputs}
        values = [self.models[role].act(inputs, role=role)[0] for role in roles]
        return torch.min(values[0], values[1]), values

    def _gradient_step(self, batch: list) -> dict:
        states, actions, rewards, next_states, terminated, truncated = batch
        cfg, alpha = self._off, self._entropy_coefficient
        with self._autocast():
            states = self._state_preprocessor(states, train=True)
            next_states = self._state_preprocessor(next_states, train=True)
            with torch.no_grad():
                next_actions, next_log_prob, _ = self.policy.act({"states": next_states, **self._update_inputs},
                                                                 role="policy")
                next_values = self._min_critic_value(self.target_critic_roles, next_states, next_actions)[0]
                targets = td_target(torch, rewards, terminated, truncated, cfg.discount_factor,
                                    next_values - alpha * next_log_prob)
            values = self._min_critic_value(self.critic_roles, states, actions)[1]
            critic_loss = (F.mse_loss(values[0], targets) + F.mse_loss(values[1], targets)) / 2
        self._optimizer_step(self.critic_optimizer, critic_loss, cfg.grad_norm_clip)
        with self._autocast():
            policy_actions, log_prob, _ = self.policy.act({"states": states, **self._update_inputs}, role="policy")
            policy_loss = (alpha * log_prob - self._min_critic_value(self.critic_roles, states, policy_actions)[0]).mean()
        self._optimizer_step(self.policy_optimizer, policy_loss, cfg.grad_norm_clip)
        result = {"critic_loss": critic_loss.detach(), "policy_loss": policy_loss.detach(),
                  **value_statistics("q1", values[0].detach()), **value_statistics("q2", values[1].detach()),
                  **value_statistics("target", targets)}
        if cfg.learn_entropy:
            with self._autocast():
                entropy_loss = -(self.log_entropy_coefficient * (log_prob + self._target_entropy).detach()).mean()
            self._optimizer_step(self.entropy_optimizer, entropy_loss)
            self._entropy_coefficient = torch.exp(self.log_entropy_coefficient.detach())
            result.update(entropy_loss=entropy_loss.detach(), entropy_coefficient=self._entropy_coefficient.mean())
        for target, source in self.target_roles.items():
            polyak_update(self.models[target], self.models[source], cfg.polyak)
        self.scaler.update()
        self._step_schedulers()
        return result

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        return [self._gradient_step(self._sample_batch()) for _ in range(plan.steps)]

    def _algorithm_state(self) -> dict:
        state = super()._algorithm_state()
        if self._off.learn_entropy:
            state["log_entropy_coefficient"] = self.log_entropy_coefficient.detach().cpu().numpy()
        return state

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        super()._restore_algorithm_state(state)
        if self._off.learn_entropy and "log_entropy_coefficient" in state:
            with torch.no_grad():
                self.log_entropy_coefficient.copy_(torch.as_tensor(np.asarray(state["log_entropy_coefficient"])))
            self._entropy_coefficient = torch.exp(self.log_entropy_coefficient.detach())
