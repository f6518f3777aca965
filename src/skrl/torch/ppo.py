"""PPO on torch: acting, storing transitions, GAE and one mini-batch step (the schedule is in ``common.ppo``)."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, Optional

import torch
import torch.nn.functional as F

from skrl.common.ppo import PPOSchedule
from skrl.torch.agent_base import Agent
from skrl.torch.gradients import FlatGradients
from skrl.torch.mixins import CategoricalMixin, MultiCategoricalMixin


def compute_gae(rewards: torch.Tensor, dones: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
                discount_factor: float, lambda_coefficient: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns and normalised advantages over a ``(T, N, 1)`` rollout (population std, so one sample is no NaN).

    The reverse recursion runs one step at a time; on the CPU it runs in NumPy over the same memory (the same
    float32 operations in the same order, at a third of the cost of a torch call per operation).
    """
    with torch.no_grad():
        advantages = torch.zeros_like(rewards)
        following = torch.cat([values[1:], next_values.reshape(1, *values.shape[1:]).to(values.dtype)])
        reward_minus_value = rewards - values
        discounted_not_dones = discount_factor * dones.logical_not().float()
        on_cpu = advantages.device.type == "cpu"
        rmv, dnd, nxt, out = (t.numpy() if on_cpu else t
                              for t in (reward_minus_value, discounted_not_dones, following, advantages))
        advantage = 0.0
        for i in reversed(range(rewards.shape[0])):
            advantage = rmv[i] + dnd[i] * (nxt[i] + lambda_coefficient * advantage)
            out[i] = advantage
    return advantages + values, normalize_advantages(advantages)


def normalize_advantages(advantages: torch.Tensor) -> torch.Tensor:
    """Advantages standardised over every entry (population std, so one sample gives zeros, not NaN)."""
    return (advantages - advantages.mean()) / (advantages.std(unbiased=False) + 1e-8)


class PPO(PPOSchedule, Agent):
    """Proximal Policy Optimization (torch). Models: ``policy`` (stochastic) and ``value`` (deterministic, may be shared)."""

    _float_dtype = torch.float32
    _bool_dtype = torch.bool

    def _ppo_build_optimizers(self) -> None:
        self._device_type = torch.device(self.device).type
        self.scaler = torch.amp.GradScaler(device=self._device_type, enabled=self._ppo.mixed_precision)
        self._zero = torch.zeros((), device=self.device)
        self._nan = torch.full((), float("nan"), device=self.device)
        self._current_values: Optional[torch.Tensor] = None
        self.optimizer, self.scheduler = None, None
        models = self._ppo_trained_models()
        if any(model is None for model in models):
            return
        unique = {id(model): model for model in models}.values()  # a shared policy/value model is trained once
        self._parameters = list(itertools.chain.from_iterable(model.parameters() for model in unique))
        fused = self._device_type in ("cpu", "cuda")  # one kernel for every parameter instead of a few per tensor
        self.optimizer = torch.optim.Adam(self._parameters, lr=self._learning_rate, fused=fused or None)
        self._gradients = FlatGradients(self._parameters)
        scheduler = self.cfg["learning_rate_scheduler"]
        if scheduler:
            self.scheduler = scheduler(self.optimizer, **self.cfg["learning_rate_scheduler_kwargs"])
        self.checkpoint_modules["optimizer"] = self.optimizer

    def _ppo_trained_models(self) -> list:
        """The models the one Adam trains (AMP adds its discriminator); no optimizer if one of them is missing."""
        return [self.policy, self.value]

    def _autocast(self) -> Any:
        if not self._ppo.mixed_precision:  # entering a disabled autocast costs more than the step's small matmuls
            return contextlib.nullcontext()
        return torch.autocast(device_type=self._device_type)

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> Any:
        """Sample actions for ``states`` (in inference mode); returns ``(actions, log_prob, outputs)``.

        In training the value of ``states`` is computed in the same pass, for ``record_transition``.
        """
        with torch.inference_mode(), self._autocast():
            inputs = self._model_inputs(self._state_preprocessor(states))
            if timestep < self._random_timesteps:
                actions = self.policy.random_act(inputs, role="policy")[0]
                _, log_prob, outputs = self.policy.act({**self._role_inputs(inputs, "policy"), "taken_actions": actions},
                                                       role="policy")
            else:
                actions, log_prob, outputs = self.policy.act(self._role_inputs(inputs, "policy"), role="policy")
            self._current_values = self._values(inputs) if self.training and self.value is not None else None
        self._current_log_prob = log_prob
        return actions, log_prob, outputs

    def _role_inputs(self, inputs: dict, role: str) -> dict:
        """The inputs of one ``role`` model call (the RNN variants, ``skrl.torch.rnn``, add its recurrent states)."""
        return inputs

    def _values(self, inputs: dict) -> torch.Tensor:
        values, _, _ = self.value.act(self._role_inputs(inputs, "value"), role="value")
        return self._value_preprocessor(values, inverse=True)

    def _ppo_values_of(self, states: torch.Tensor) -> torch.Tensor:
        values, self._current_values = self._current_values, None  # computed by act() for the same states
        if values is None:
            with torch.inference_mode(), self._autocast():
                values = self._values(self._model_inputs(self._state_preprocessor(states)))
        return values

    # ---- update hooks ----------------------------------------------------------------------------------------

    def _ppo_compute_advantages(self) -> None:
        with torch.no_grad(), self._autocast():
            self.value.train(False)
            last_values = self._values(self._model_inputs(self._state_preprocessor(self._current_next_states.float())))
            self.value.train(True)
        values = self.memory.get_tensor_by_name("values")
        dones = self.memory.get_tensor_by_name("terminated") | self.memory.get_tensor_by_name("truncated")
        returns, advantages = compute_gae(self.memory.get_tensor_by_name("rewards"), dones, values, last_values,
                                          self._discount_factor, self._lambda)
        self._ppo_store_returns(values, returns, advantages)

    def _ppo_store_returns(self, values: torch.Tensor, returns: torch.Tensor, advantages: torch.Tensor) -> None:
        """Store the values and returns in the value preprocessor's space (updating its statistics), and the advantages."""
        self.memory.set_tensor_by_name("values", self._value_preprocessor(values, train=True))
        self.memory.set_tensor_by_name("returns", self._value_preprocessor(returns, train=True))
        self.memory.set_tensor_by_name("advantages", advantages)

    def _ppo_permutation(self, size: int) -> torch.Tensor:
        return torch.randperm(size).numpy()

    def _policy_loss(self, log_prob: torch.Tensor, log_ratio: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
        """PPO's clipped surrogate objective, negated (A2C overrides it with the plain policy gradient)."""
        ratio = torch.exp(log_ratio)
        clip = self._ppo.ratio_clip
        return -torch.min(advantages * ratio, advantages * torch.clip(ratio, 1.0 - clip, 1.0 + clip)).mean()

    def _ppo_train_minibatch(self, batch: Any, epoch: int) -> dict:
        out = self._ppo_losses(batch, train_preprocessor=not epoch)
        if out["stopped"]:
            return out
        self._ppo_step(out["policy_loss"] + out["entropy_loss"] + out["value_loss"])
        return {**{key: value.detach() for key, value in out.items() if key.endswith("_loss")}, "kl": out["kl"],
                "stopped": False, "stddev": self._ppo_stddev()}

    def _ppo_losses(self, batch: Any, train_preprocessor: bool) -> dict:
        """One mini-batch's KL and (differentiable) policy, entropy and value losses; only ``kl`` and ``stopped`` if
        the KL early stop fires. AMP adds its discriminator loss to these before stepping."""
        states, actions, old_log_prob, old_values, returns, advantages = batch
        cfg = self._ppo
        with self._autocast():
            states = self._state_preprocessor(states, train=train_preprocessor)
            inputs = self._model_inputs(states)
            _, log_prob, outputs = self.policy.act({**self._role_inputs(inputs, "policy"), "taken_actions": actions},
                                                   role="policy")
            log_ratio = log_prob - old_log_prob
            with torch.no_grad():
                kl = ((torch.exp(log_ratio) - 1) - log_ratio).mean()
            if cfg.kl_threshold:
                kl = self._mean_over_ranks(kl)
            if cfg.kl_threshold and kl > cfg.kl_threshold:
                return {"kl": kl, "stopped": True}
            entropy_loss = -cfg.entropy_loss_scale * self.policy.get_entropy(role="policy").mean() \
                if cfg.entropy_loss_scale else self._zero
            policy_loss = self._policy_loss(log_prob, log_ratio, advantages)
            predicted_values, _, _ = self.value.act(self._role_inputs(inputs, "value"), role="value")
            if cfg.clip_predicted_values:
                predicted_values = old_values + torch.clip(predicted_values - old_values, -cfg.value_clip, cfg.value_clip)
            value_loss = cfg.value_loss_scale * F.mse_loss(returns, predicted_values)
        return {"kl": kl, "stopped": False, "policy_loss": policy_loss, "value_loss": value_loss,
                "entropy_loss": entropy_loss}

    def _ppo_step(self, loss: torch.Tensor) -> None:
        """One optimizer step on ``loss``: backward (scaled), gradients averaged over processes, joint norm clip."""
        self._gradients.zero_()
        self.scaler.scale(loss).backward()
        self._average_gradients()
        if self._ppo.grad_norm_clip > 0:
            self.scaler.unscale_(self.optimizer)
            self._gradients.clip_norm_(self._ppo.grad_norm_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()

    def _ppo_stddev(self) -> torch.Tensor:
        """The policy's mean standard deviation at its last call (NaN for a policy without a distribution)."""
        if isinstance(self.policy, (CategoricalMixin, MultiCategoricalMixin)):
            return self._nan  # what a Categorical's stddev is, without building the distribution
        distribution = self.policy.distribution(role="policy") if hasattr(self.policy, "distribution") else None
        return distribution.stddev.mean().detach() if distribution is not None else self._nan

    def _ppo_step_scheduler(self, timestep: int, kls: list) -> None:
        if self.scheduler is None:
            return
        from skrl.resources.schedulers.torch import KLAdaptiveLR

        if isinstance(self.scheduler, KLAdaptiveLR):
            self.scheduler.step(self._mean_over_ranks(torch.stack(kls).mean()).item() if kls else None)
        else:
            self.scheduler.step()

    def _ppo_scheduler_state(self) -> dict:
        return {"scheduler": self.scheduler.state_dict()} if self.scheduler is not None else {}

    def _ppo_restore_scheduler_state(self, state: Any) -> None:
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])

    def _ppo_learning_rate(self) -> Optional[float]:
        return self.scheduler.get_last_lr()[0] if self.scheduler is not None else None

    def _ppo_mean(self, values: list) -> torch.Tensor:
        return torch.stack(values).mean()
