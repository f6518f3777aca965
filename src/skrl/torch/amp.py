"""AMP (Adversarial Motion Priors) on torch: PPO's losses plus a discriminator trained by the same optimizer step.

The schedule (rollout storage, motion dataset and reply buffer, tracking) is in ``skrl.common.amp``; this module
supplies the array work: the stored next values, the style rewards, GAE with those next values, and the joint
policy/value/discriminator step of every mini-batch.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F

from skrl.common.amp import AMPSchedule
from skrl.torch.ppo import PPO, normalize_advantages


def compute_amp_gae(rewards: torch.Tensor, dones: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
                    discount_factor: float, lambda_coefficient: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns and normalised advantages over a ``(T, N, 1)`` rollout, bootstrapping every step with its own stored
    ``next_values`` (already zero at terminations), so ``dones`` only cut the advantage recursion."""
    advantage = torch.zeros_like(rewards[0])
    advantages = torch.zeros_like(rewards)
    not_dones = dones.logical_not().float()
    for i in reversed(range(rewards.shape[0])):
        advantage = rewards[i] - values[i] + discount_factor * (next_values[i] + lambda_coefficient * not_dones[i] * advantage)
        advantages[i] = advantage
    return advantages + values, normalize_advantages(advantages)


class AMP(AMPSchedule, PPO):
    """Adversarial Motion Priors (torch). Models: ``policy`` (stochastic), ``value`` and ``discriminator``
    (deterministic, one output, on the AMP observation space); one Adam trains all three."""

    _tensors_names = [*PPO._tensors_names, "amp_states"]  # the PPO mini-batch (``_ppo_losses``), then the AMP states

    def _ppo_build_optimizers(self) -> None:
        self._amp_setup_discriminator()
        super()._ppo_build_optimizers()

    def _ppo_trained_models(self) -> list:
        return [self.policy, self.value, self.discriminator]

    # ---- rollout ---------------------------------------------------------------------------------------------

    def _amp_next_values(self, next_states: torch.Tensor, done: Any) -> torch.Tensor:
        with torch.inference_mode(), self._autocast():
            values = self._values(self._model_inputs(self._state_preprocessor(next_states)))
        not_done = torch.logical_not(torch.as_tensor(done, device=values.device)).reshape(values.shape)
        return values * not_done

    def _amp_flat_amp_states(self) -> torch.Tensor:
        amp_states = self.memory.get_tensor_by_name("amp_states")
        return amp_states.reshape(-1, amp_states.shape[-1])

    # ---- update ----------------------------------------------------------------------------------------------

    def _amp_compute_advantages(self) -> None:
        """Combine task and style rewards, then GAE with the stored next values (values preprocessed as in PPO)."""
        cfg = self._amp
        rewards = self.memory.get_tensor_by_name("rewards")
        with torch.no_grad(), self._autocast():
            amp_states = self._amp_flat_amp_states()
            logits, _, _ = self.discriminator.act({"states": self._amp_state_preprocessor(amp_states)},
                                                  role="discriminator")
            probability = 1 - torch.sigmoid(logits.float())
            style_rewards = -torch.log(torch.clamp(probability, min=1e-4)) * cfg.discriminator_reward_scale
        rewards = cfg.task_reward_weight * rewards + cfg.style_reward_weight * style_rewards.reshape(rewards.shape)
        values = self.memory.get_tensor_by_name("values")
        dones = self.memory.get_tensor_by_name("terminated") | self.memory.get_tensor_by_name("truncated")
        returns, advantages = compute_amp_gae(rewards, dones, values, self.memory.get_tensor_by_name("next_values"),
                                              self._discount_factor, self._lambda)
        self._ppo_store_returns(values, returns, advantages)

    def _amp_update(self, timestep: int, timesteps: int) -> Optional[dict]:
        self._amp_compute_advantages()
        parts = max(1, min(self._mini_batches, len(self.memory)))
        motion_batches = self._amp_reference_batches(self.motion_dataset, parts)
        if motion_batches is None:
            raise ValueError("AMP's discriminator needs reference motions: pass a `motion_dataset` memory (and "
                             f"`collect_reference_motions`) to train. Received: motion_dataset={self.motion_dataset!r}")
        replay_batches = self._amp_reference_batches(self.reply_buffer, parts)
        results: list[dict] = []
        for _ in range(self._learning_epochs):
            kls = []
            for i, (*batch, amp_states) in enumerate(self._ppo_minibatches()):
                out = self._ppo_losses(batch, train_preprocessor=True)
                replay_states = replay_batches[i][0] if replay_batches is not None else amp_states
                discriminator_loss = self._discriminator_loss(amp_states, replay_states, motion_batches[i][0])
                self._ppo_step(out["policy_loss"] + out["entropy_loss"] + out["value_loss"] + discriminator_loss)
                kls.append(out["kl"])
                results.append({"policy_loss": out["policy_loss"].detach(), "value_loss": out["value_loss"].detach(),
                                "entropy_loss": out["entropy_loss"].detach(),
                                "discriminator_loss": discriminator_loss.detach()})
            self._ppo_step_scheduler(timestep, kls)
        summary = {key: self._ppo_mean([r[key] for r in results]) for key in results[0]}
        return {**summary, "stddev": self._ppo_stddev()}

    def _discriminator_loss(self, agent: torch.Tensor, replay: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        """BCE of the discriminator (agent and replay states: 0, reference motions: 1) with its regularisers, scaled."""
        cfg = self._amp
        if cfg.discriminator_batch_size:
            size = cfg.discriminator_batch_size
            agent, replay, motion = agent[:size], replay[:size], motion[:size]
        with self._autocast():
            agent = self._amp_state_preprocessor(agent, train=True)
            replay = self._amp_state_preprocessor(replay, train=True)
            motion = self._amp_state_preprocessor(motion, train=True).detach().requires_grad_(True)
            agent_logits, _, _ = self.discriminator.act({"states": torch.cat([agent, replay])}, role="discriminator")
            motion_logits, _, _ = self.discriminator.act({"states": motion}, role="discriminator")
            loss = 0.5 * (F.binary_cross_entropy_with_logits(agent_logits, torch.zeros_like(agent_logits))
                          + F.binary_cross_entropy_with_logits(motion_logits, torch.ones_like(motion_logits)))
            weights = [m.weight for m in self.discriminator.modules() if isinstance(m, torch.nn.Linear)]
            if cfg.discriminator_logit_regularization_scale:
                if not weights:
                    raise ValueError("AMP's logit regularisation needs a torch.nn.Linear output layer in the "
                                     f"discriminator. Received: {type(self.discriminator).__name__}")
                loss = loss + cfg.discriminator_logit_regularization_scale * torch.sum(torch.square(weights[-1]))
            if cfg.discriminator_gradient_penalty_scale:
                gradient = torch.autograd.grad(motion_logits, motion, grad_outputs=torch.ones_like(motion_logits),
                                               create_graph=True, retain_graph=True)[0]
                loss = loss + cfg.discriminator_gradient_penalty_scale * torch.mean(torch.sum(torch.square(gradient), -1))
            if cfg.discriminator_weight_decay_scale and weights:
                loss = loss + cfg.discriminator_weight_decay_scale * sum(torch.sum(torch.square(w)) for w in weights)
        return cfg.discriminator_loss_scale * loss
