"""TRPO on torch: PPO's rollout (acting, values, GAE) with a trust-region policy step and a value optimizer.

The schedule is in ``skrl.common.trpo``. The policy may be any stochastic torch mixin that keeps its last
``distribution()`` (Gaussian, MultivariateGaussian, Categorical): the KL divergence comes from
``torch.distributions.kl_divergence``.

In a distributed run the policy step averages the surrogate's gradient, the Fisher-vector products and the
surrogate and KL values of the line search over the processes, the value step its gradients, so that every process
takes the same steps.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager

import torch
import torch.nn.functional as F
from torch.distributions import Categorical, MultivariateNormal, Normal, kl_divergence

from skrl.common.trpo import TRPOSchedule
from skrl.torch.ppo import PPO


def _detached(distribution: Any) -> Any:
    """The same distribution with its parameters cut from the graph (the fixed "old" policy of the KL)."""
    if isinstance(distribution, Normal):
        return Normal(distribution.loc.detach(), distribution.scale.detach(), validate_args=False)
    if isinstance(distribution, MultivariateNormal):
        return MultivariateNormal(distribution.loc.detach(), scale_tril=distribution.scale_tril.detach(),
                                  validate_args=False)
    if isinstance(distribution, Categorical):
        return Categorical(logits=distribution.logits.detach(), validate_args=False)
    raise ValueError(f"TRPO needs a Normal, MultivariateNormal or Categorical policy distribution. "
                     f"Received: {type(distribution).__name__}")


def _mean_kl(old: Any, new: Any) -> torch.Tensor:
    """``KL(old || new)`` summed over action dimensions, averaged over the batch."""
    kl = kl_divergence(old, new)
    return (kl.sum(-1) if isinstance(new, Normal) else kl).mean()


def conjugate_gradient(product: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, steps: int,
                       tolerance: float = 1e-10) -> torch.Tensor:
    """Approximate ``x = A^-1 b`` for a symmetric positive-definite ``A`` given only ``product(v) = A v``."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = torch.dot(r, r)
    for _ in range(steps):
        if rr < tolerance:
            break
        ap = product(p)
        alpha = rr / torch.dot(p, ap)
        x += alpha * p
        r -= alpha * ap
        new_rr = torch.dot(r, r)
        p = r + (new_rr / rr) * p
        rr = new_rr
    return x


class TRPO(TRPOSchedule, PPO):
    """Trust Region Policy Optimization (torch). Models: ``policy`` (stochastic) and a separate ``value``."""

    def _ppo_build_optimizers(self) -> None:
        if self.policy is not None and not hasattr(self.policy, "distribution"):
            raise ValueError("TRPO needs a stochastic policy (a Gaussian, MultivariateGaussian or Categorical mixin "
                             f"model). Received: {type(self.policy).__name__}")
        self.value_optimizer = self.value_scheduler = None
        if self.value is not None:
            self.value_optimizer = torch.optim.Adam(self.value.parameters(), lr=self._learning_rate)
            scheduler = self.cfg["learning_rate_scheduler"]
            if scheduler:
                self.value_scheduler = scheduler(self.value_optimizer, **self.cfg["learning_rate_scheduler_kwargs"])
            self.checkpoint_modules["value_optimizer"] = self.value_optimizer
        self.scheduler = self.value_scheduler

    def _autocast(self) -> ContextManager:
        return contextlib.nullcontext()

    def _trpo_policy_step(self, states: Any, actions: Any, log_prob: Any, advantages: Any, extra: Any = None) -> dict:
        """(``extra``: more inputs of every policy call, the RNN variant's states and dones; cuDNN is then disabled,
        its RNN kernels have no double backward.)"""
        if extra is None:
            return self._trust_region_step(states, actions, log_prob, advantages, {})
        with torch.backends.cudnn.flags(enabled=False):
            return self._trust_region_step(states, actions, log_prob, advantages, extra)

    def _trust_region_step(self, states: Any, actions: Any, log_prob: Any, advantages: Any, extra: dict) -> dict:
        cfg = self._ppo
        parameters = [p for p in self.policy.parameters() if p.requires_grad]

        def surrogate() -> torch.Tensor:
            _, new_log_prob, _ = self.policy.act({"states": states, "taken_actions": actions, **extra}, role="policy")
            return (advantages * torch.exp(new_log_prob - log_prob)).mean()

        old_surrogate = surrogate()
        old = _detached(self.policy.distribution(role="policy"))
        gradient = self._mean_over_ranks(torch.cat(
            [g.reshape(-1) for g in torch.autograd.grad(old_surrogate, parameters, retain_graph=True)]))
        kl_gradient = torch.cat([g.reshape(-1) for g in torch.autograd.grad(
            _mean_kl(old, self.policy.distribution(role="policy")), parameters, create_graph=True)])

        def fisher_product(v: torch.Tensor) -> torch.Tensor:
            hvp = torch.autograd.grad(kl_gradient @ v, parameters, retain_graph=True)
            return self._mean_over_ranks(torch.cat([g.reshape(-1) for g in hvp])) + cfg.damping * v

        direction = conjugate_gradient(fisher_product, gradient, cfg.conjugate_gradient_steps)
        curvature = direction @ fisher_product(direction)
        with torch.no_grad():
            scale = torch.sqrt(2 * cfg.max_kl_divergence / curvature) if curvature > 0 else 0.0
            step = torch.nan_to_num(direction * scale, nan=0.0, posinf=0.0, neginf=0.0)
            new_surrogate = self._line_search(parameters, step, gradient @ step,
                                              self._mean_over_ranks(old_surrogate.detach()), old, surrogate)
        stddev = old.stddev.mean() if not isinstance(old, Categorical) else torch.full((), float("nan"))
        return {"policy_loss": -new_surrogate, "stddev": stddev}

    def _line_search(self, parameters: list, step: torch.Tensor, expected: torch.Tensor, old_surrogate: torch.Tensor,
                     old: Any, surrogate: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Try ``step_fraction * 0.5**i`` of ``step``; keep the first that stays within the KL bound and improves
        the surrogate by at least ``accept_ratio`` of the linear prediction (else restore the parameters). Both are
        judged on the surrogate and KL averaged over the processes (every rank decides alike)."""
        cfg = self._ppo
        start = torch.nn.utils.parameters_to_vector(parameters)
        for i in range(cfg.max_backtrack_steps):
            fraction = cfg.step_fraction * 0.5**i
            torch.nn.utils.vector_to_parameters(start + fraction * step, parameters)
            new_surrogate = self._mean_over_ranks(surrogate())
            kl = self._mean_over_ranks(_mean_kl(old, self.policy.distribution(role="policy")))
            if kl < cfg.max_kl_divergence and (new_surrogate - old_surrogate) / (fraction * expected) > cfg.accept_ratio:
                return new_surrogate
        torch.nn.utils.vector_to_parameters(start, parameters)
        return old_surrogate

    def _trpo_value_step(self, states: Any, returns: Any, extra: Any = None) -> torch.Tensor:
        predicted, _, _ = self.value.act({"states": states, **(extra or {})}, role="value")
        value_loss = self._ppo.value_loss_scale * F.mse_loss(returns, predicted)
        self.value_optimizer.zero_grad()
        value_loss.backward()
        self._average_gradients(self.value.parameters())
        if self._ppo.grad_norm_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.value.parameters(), self._ppo.grad_norm_clip)
        self.value_optimizer.step()
        return value_loss.detach()
