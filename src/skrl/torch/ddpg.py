"""DDPG and TD3 on torch: acting with exploration noise and the gradient step (the schedule is in ``common.ddpg``).

One class serves both: the critic roles, the smoothing noise and the policy delay come from the schedule.
As in skrl 1.4.3 torch, all critics share one ``critic_optimizer`` (their gradients are clipped together).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from skrl.common.ddpg import DDPGSchedule, TD3Schedule
from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.torch.agent_base import Agent
from skrl.torch.off_policy_ops import TorchOffPolicy, polyak_update


class _DeterministicActorCritic(TorchOffPolicy):
    """DDPG/TD3 array work on torch."""

    def _build_optimizers(self) -> None:
        self._setup_training()
        self._clip_actions = self._action_clipper(self._action_bounds)
        critics = [self.models.get(role) for role in self.critic_roles]
        if self.models.get("policy") is None or None in critics:
            return
        self._make_optimizer("policy_optimizer", self.models["policy"].parameters(), self._off.actor_learning_rate,
                             group="policy")
        self._make_optimizer("critic_optimizer", [p for critic in critics for p in critic.parameters()],
                             self._off.critic_learning_rate, group="critic")

    def _deterministic_act(self, states: torch.Tensor, scale: Optional[float]) -> tuple:
        with torch.no_grad(), self._autocast():
            actions, _, outputs = self.policy.act({"states": self._state_preprocessor(states), **self._act_inputs()},
                                                  role="policy")
            outputs = {**(outputs or {}), "mean_actions": actions}
            if scale is None:
                return actions, outputs, None
            noises = scale * self._exploration_noise.sample(actions.shape)
            return self._clip_actions(actions + noises), outputs, (noises.max(), noises.min(), noises.mean())

    def _critic_values(self, roles: tuple, states: torch.Tensor, actions: torch.Tensor) -> list[torch.Tensor]:
        inputs = {"states": states, "taken_actions": actions, **self._update_inputs}
        return [self.models[role].act(inputs, role=role)[0] for role in roles]

    def _targets(self, rewards: torch.Tensor, next_states: torch.Tensor, terminated: torch.Tensor,
                 truncated: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            next_actions = self.target_policy.act({"states": next_states, **self._update_inputs},
                                                  role="target_policy")[0]
            if self._smooth_noise is not None:
                clip = self._off.smooth_regularization_clip
                noises = torch.clamp(self._smooth_noise.sample(next_actions.shape), min=-clip, max=clip)
                next_actions = self._clip_actions(next_actions + noises)
            values = self._critic_values(self.target_critic_roles, next_states, next_actions)
            next_values = values[0] if len(values) == 1 else torch.min(values[0], values[1])
            return td_target(torch, rewards, terminated, truncated, self._off.discount_factor, next_values)

    def _gradient_step(self, batch: list, update_policy: bool) -> dict:
        states, actions, rewards, next_states, terminated, truncated = batch
        clip = self._off.grad_norm_clip
        with self._autocast():
            states = self._state_preprocessor(states, train=True)
            next_states = self._state_preprocessor(next_states, train=True)
            targets = self._targets(rewards, next_states, terminated, truncated)
            values = self._critic_values(self.critic_roles, states, actions)
            critic_loss = sum(F.mse_loss(value, targets) for value in values)
        self._optimizer_step(self.critic_optimizer, critic_loss, clip)
        result = {"critic_loss": critic_loss.detach(), **value_statistics("target", targets)}
        for i, value in enumerate(values):
            result.update(value_statistics(f"q{i + 1}", value.detach()))
        if update_policy:
            with self._autocast():
                policy_actions = self.policy.act({"states": states, **self._update_inputs}, role="policy")[0]
                policy_loss = -self._critic_values(self.critic_roles[:1], states, policy_actions)[0].mean()
            self._optimizer_step(self.policy_optimizer, policy_loss, clip)
            result["policy_loss"] = policy_loss.detach()
            for target, source in self.target_roles.items():
                polyak_update(self.models[target], self.models[source], self._off.polyak)
        self.scaler.update()
        self._step_schedulers(policy_stepped=update_policy)
        return result

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        return [self._gradient_step(self._sample_batch(), update_policy) for update_policy in plan.policy_updates]


class DDPG(_DeterministicActorCritic, DDPGSchedule, Agent):
    """Deep Deterministic Policy Gradient (torch). Models: ``policy``, ``target_policy`` (deterministic actors);
    ``critic``, ``target_critic`` (one output from ``states`` and ``taken_actions``)."""


class TD3(_DeterministicActorCritic, TD3Schedule, Agent):
    """Twin Delayed DDPG (torch). Models: ``policy``, ``target_policy``, ``critic_1``, ``critic_2``,
    ``target_critic_1``, ``target_critic_2``."""
