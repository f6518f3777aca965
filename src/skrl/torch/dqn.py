"""DQN and DDQN on torch: epsilon-greedy acting and the Q-learning gradient step (schedule in ``common.dqn``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skrl.common.dqn import DDQNSchedule, DQNSchedule
from skrl.common.off_policy import UpdatePlan, td_target, value_statistics
from skrl.torch.agent_base import Agent
from skrl.torch.off_policy_ops import TorchOffPolicy, polyak_update


class DQN(TorchOffPolicy, DQNSchedule, Agent):
    """Deep Q-Network (torch). Models: ``q_network`` and ``target_q_network`` (deterministic, one output per action)."""

    def _build_optimizers(self) -> None:
        self._setup_training()
        if self.models.get("q_network") is not None:
            self._make_optimizer("optimizer", self.models["q_network"].parameters(), self._off.learning_rate,
                                 group="q_network", scheduler_name="scheduler")

    def _q_values(self, role: str, states: torch.Tensor) -> torch.Tensor:
        return self.models[role].act({"states": states}, role=role)[0]

    def _epsilon_greedy_act(self, states: torch.Tensor, epsilon: float) -> tuple:
        with torch.no_grad(), self._autocast():
            q_values = self._q_values("q_network", self._state_preprocessor(states))
        greedy = torch.argmax(q_values, dim=-1, keepdim=True)
        actions = greedy
        if epsilon > 0:
            explore = torch.rand(greedy.shape, device=greedy.device) < epsilon
            actions = torch.where(explore, torch.randint_like(greedy, self._num_actions), greedy)
        return actions, None, {"q_values": q_values, "mean_actions": greedy}

    def _gradient_step(self, batch: list) -> dict:
        states, actions, rewards, next_states, terminated, truncated = batch
        with self._autocast():
            states = self._state_preprocessor(states, train=True)
            next_states = self._state_preprocessor(next_states, train=True)
            with torch.no_grad():
                next_q_values = self._q_values("target_q_network", next_states)
                if self.double:
                    chosen = torch.argmax(self._q_values("q_network", next_states), dim=-1, keepdim=True)
                    next_values = torch.gather(next_q_values, dim=-1, index=chosen)
                else:
                    next_values = torch.max(next_q_values, dim=-1, keepdim=True)[0]
                targets = td_target(torch, rewards, terminated, truncated, self._off.discount_factor, next_values)
            q_values = torch.gather(self._q_values("q_network", states), dim=-1, index=actions.long())
            loss = F.mse_loss(q_values, targets)
        self._optimizer_step(self.optimizer, loss)
        self.scaler.update()
        self._step_schedulers()
        return {"q_network_loss": loss.detach(), **value_statistics("target", targets)}

    def _run_gradient_steps(self, plan: UpdatePlan) -> list[dict]:
        results = [self._gradient_step(self._sample_batch()) for _ in range(plan.steps)]
        if plan.update_targets:
            polyak_update(self.target_q_network, self.q_network, self._off.polyak)
        return results


class DDQN(DQN, DDQNSchedule):
    """Double Deep Q-Network (torch). Models: ``q_network`` and ``target_q_network``."""
