"""Torch mixins: turn the output of a model's ``compute`` into actions, log-probabilities and an outputs dict.

Declare them before ``Model`` (``class Policy(GaussianMixin, Model)``) and call their ``__init__`` after
``Model.__init__``. Options are parsed by the shared bases in ``skrl.common.mixins``. Every stochastic mixin
also puts ``"entropy"`` in the outputs (what ``get_entropy()`` returns, with gradients) when gradients are enabled;
agents act under ``torch.inference_mode``, where it would cost ~10 us a call for nothing.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import torch
from torch.distributions import Categorical, MultivariateNormal, Normal

from skrl.common.mixins import (
    CategoricalMixinBase,
    DeterministicMixinBase,
    GaussianMixinBase,
    MultiCategoricalMixinBase,
    MultivariateGaussianMixinBase,
    TabularMixinBase,
)
from skrl.common.models import ActionClip, GaussianSettings, reduce_log_prob


class _TorchMixinState:
    """Backend hook of the mixin bases: action bounds as tensors on the model's device, no distribution yet."""

    def _init_mixin(self, prefix: str, clip: Optional[ActionClip]) -> None:
        bounds = None
        if clip is not None:
            bounds = (torch.as_tensor(clip.low, device=self.device), torch.as_tensor(clip.high, device=self.device))
        setattr(self, f"{prefix}clip", bounds)
        setattr(self, f"{prefix}distribution", None)
        setattr(self, f"{prefix}log_std", None)
        setattr(self, f"{prefix}parameters", None)  # what the last act's distribution is built from, lazily

    def _zero_entropy(self) -> torch.Tensor:
        """What ``get_entropy`` returns before any ``act``: 0 on the model's device."""
        return torch.tensor(0.0, device=self.device)


def _clip(actions: torch.Tensor, bounds: Optional[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    return actions if bounds is None else torch.clamp(actions, min=bounds[0], max=bounds[1])


def _clamp_log_std(settings: GaussianSettings, log_std: torch.Tensor) -> torch.Tensor:
    return torch.clamp(log_std, settings.min_log_std, settings.max_log_std) if settings.clip_log_std else log_std


class GaussianMixin(GaussianMixinBase, _TorchMixinState):
    """Diagonal Gaussian policy: ``compute`` returns ``(mean_actions, log_std, outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        mean_actions, log_std, outputs = self.compute(inputs, role)
        self._g_log_std = _clamp_log_std(self._g_settings, log_std)
        self._g_parameters = (mean_actions, self._g_log_std.exp())
        self._g_distribution = Normal(*self._g_parameters, validate_args=False)
        actions = _clip(self._g_distribution.rsample(), self._g_clip)
        log_prob = self._g_distribution.log_prob(inputs.get("taken_actions", actions))
        outputs["mean_actions"] = mean_actions
        if torch.is_grad_enabled():  # not when acting under no_grad/inference_mode, where nothing uses it
            outputs["entropy"] = self.get_entropy(role)
        return actions, reduce_log_prob(log_prob, self._g_settings.reduction, actions.ndim), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Per-dimension entropy ``(B, A)`` of the last distribution (0 before any ``act``)."""
        distribution = self.distribution(role)
        return self._zero_entropy() if distribution is None else distribution.entropy().to(self.device)

    def get_log_std(self, role: str = "") -> Optional[torch.Tensor]:
        """Last (clamped) log-std broadcast to the batch, ``(B, A)``."""
        return None if self._g_parameters is None else self._g_log_std.expand_as(self._g_parameters[0])

    def distribution(self, role: str = "") -> Optional[Normal]:
        if self._g_distribution is None and self._g_parameters is not None:
            self._g_distribution = Normal(*self._g_parameters, validate_args=False)
        return self._g_distribution


class MultivariateGaussianMixin(MultivariateGaussianMixinBase, _TorchMixinState):
    """Multivariate Gaussian policy (1-D log-std). As skrl 1.4.3, ``exp(log_std)²`` is used as ``scale_tril``."""

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        mean_actions, log_std, outputs = self.compute(inputs, role)
        self._mg_log_std = _clamp_log_std(self._mg_settings, log_std)
        scale_tril = torch.diag(self._mg_log_std.exp() * self._mg_log_std.exp())
        self._mg_distribution = MultivariateNormal(mean_actions, scale_tril=scale_tril, validate_args=False)
        actions = _clip(self._mg_distribution.rsample(), self._mg_clip)
        log_prob = self._mg_distribution.log_prob(inputs.get("taken_actions", actions)).unsqueeze(-1)
        outputs["mean_actions"] = mean_actions
        if torch.is_grad_enabled():  # not when acting under no_grad/inference_mode, where nothing uses it
            outputs["entropy"] = self._mg_distribution.entropy()
        return actions, log_prob, outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy ``(B,)`` of the last distribution (0 before any ``act``)."""
        return self._zero_entropy() if self._mg_distribution is None else self._mg_distribution.entropy().to(self.device)

    def get_log_std(self, role: str = "") -> Optional[torch.Tensor]:
        return None if self._mg_distribution is None else self._mg_log_std.expand_as(self._mg_distribution.mean)

    def distribution(self, role: str = "") -> Optional[MultivariateNormal]:
        return self._mg_distribution


def _categorical(net_output: torch.Tensor, unnormalized_log_prob: bool) -> Categorical:
    if unnormalized_log_prob:
        return Categorical(logits=net_output, validate_args=False)
    return Categorical(probs=net_output, validate_args=False)


def _normalized_logits(net_output: torch.Tensor, unnormalized_log_prob: bool) -> torch.Tensor:
    """The log-probabilities ``torch.distributions.Categorical`` computes from logits (or from probabilities)."""
    if unnormalized_log_prob:  # = logits - logsumexp(logits), in one kernel instead of about ten
        return torch.log_softmax(net_output, dim=-1)
    probs = net_output / net_output.sum(-1, keepdim=True)
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps).log()


def _sample_categorical(logits: torch.Tensor) -> torch.Tensor:
    """One index per row, ``(B, 1)``, drawn with probabilities ``exp(logits)``: the argmax of the log-probabilities
    minus the logs of standard exponential draws (an exponential race, the same law as Gumbel-max in half the ops;
    ``-inf`` entries are never drawn, and a draw of 0 is raised to the smallest normal float)."""
    race = torch.empty_like(logits).exponential_().clamp_(min=torch.finfo(logits.dtype).tiny).log_()
    return torch.argmax(logits.detach() - race, dim=-1, keepdim=True)


class CategoricalMixin(CategoricalMixinBase, _TorchMixinState):
    """Categorical policy over a Discrete action space: ``compute`` returns ``(net_output (B, n), outputs)``.

    ``act`` normalises, samples (an exponential race) and scores without building
    ``torch.distributions.Categorical`` (~90 us a call on the CPU); ``distribution()`` builds it on demand.
    """

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        net_output, outputs = self.compute(inputs, role)
        logits = _normalized_logits(net_output, self._c_unnormalized_log_prob)
        state = self.__dict__  # plain attributes: nn.Module.__setattr__ costs microseconds a call
        state["_c_parameters"], state["_c_distribution"], state["_c_entropy"] = logits, None, None
        actions = _sample_categorical(logits)
        taken = inputs.get("taken_actions", actions).reshape(-1, 1).long()
        log_prob = logits.gather(-1, taken)
        outputs["net_output"] = net_output
        if torch.is_grad_enabled():  # not when acting under no_grad/inference_mode, where nothing uses it
            outputs["entropy"] = self.get_entropy(role)
        return actions, log_prob, outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy ``(B,)`` of the last distribution (0 before any ``act``), computed once per ``act``.

        ``-sum(p * log p)`` straight from the normalised logits, as ``Categorical.entropy`` computes it (``-inf``
        logits count 0) without building the distribution (~4x cheaper).
        """
        if self._c_parameters is None:
            return self._zero_entropy()
        if self.__dict__.get("_c_entropy") is None:
            logits = self._c_parameters
            self.__dict__["_c_entropy"] = -(logits.exp() * logits.clamp(min=torch.finfo(logits.dtype).min)).sum(-1)
        return self._c_entropy

    def distribution(self, role: str = "") -> Optional[Categorical]:
        if self._c_distribution is None and self._c_parameters is not None:
            self._c_distribution = Categorical(logits=self._c_parameters, validate_args=False)
        return self._c_distribution


class MultiCategoricalMixin(MultiCategoricalMixinBase, _TorchMixinState):
    """One categorical per sub-action of a MultiDiscrete space: ``compute`` returns ``(net_output, outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        net_output, outputs = self.compute(inputs, role)
        chunks = torch.split(net_output, self._mc_sizes, dim=-1)
        self._mc_distribution = [_categorical(chunk, self._mc_unnormalized_log_prob) for chunk in chunks]
        actions = torch.stack([d.sample() for d in self._mc_distribution], dim=-1)
        taken_actions = inputs.get("taken_actions", actions).reshape(actions.shape[0], -1)
        log_prob = torch.stack([d.log_prob(taken_actions[:, i]) for i, d in enumerate(self._mc_distribution)], dim=-1)
        outputs["net_output"] = net_output
        if torch.is_grad_enabled():  # not when acting under no_grad/inference_mode, where nothing uses it
            outputs["entropy"] = self.get_entropy(role)
        return actions, reduce_log_prob(log_prob, self._mc_reduction, actions.ndim), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Sub-action entropies reduced to ``(B, 1)`` (``(B, k)`` for ``"none"``); 0 before any ``act``."""
        if self._mc_distribution is None:
            return self._zero_entropy()
        entropy = torch.stack([d.entropy().to(self.device) for d in self._mc_distribution], dim=-1)
        return reduce_log_prob(entropy, self._mc_reduction, 2)

    def distribution(self, role: str = "") -> Optional[Categorical]:
        """The first sub-action's distribution (as skrl 1.4.3)."""
        return None if self._mc_distribution is None else self._mc_distribution[0]


class DeterministicMixin(DeterministicMixinBase, _TorchMixinState):
    """Deterministic output (values, critics, deterministic policies): ``compute`` returns ``(output, outputs)``."""

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        actions, outputs = self.compute(inputs, role)
        return _clip(actions, self._d_clip), None, outputs


class TabularMixin(TabularMixinBase, _TorchMixinState):
    """Tabular model (Q-learning, SARSA): ``compute`` returns ``(actions, outputs)`` from the model's tensors.

    Tables are plain tensor attributes set after ``TabularMixin.__init__`` (e.g. ``self.q_table``); ``to``,
    ``state_dict`` and ``load_state_dict`` include them, so checkpoints and ``save``/``load`` carry them.
    """

    def _is_table(self, value: Any) -> bool:
        return isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter)

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        actions, outputs = self.compute(inputs, role)
        return actions, None, outputs

    def to(self, *args: Any, **kwargs: Any) -> "TabularMixin":
        """Move the module and every table (``Module.to`` arguments)."""
        torch.nn.Module.to(self, *args, **kwargs)
        for name in self._table_names():
            setattr(self, name, getattr(self, name).to(*args, **kwargs))
        return self

    def state_dict(self, *args: Any, **kwargs: Any) -> dict:
        """The tables, then the module's own state dict."""
        module_state = torch.nn.Module.state_dict(self, *args, **kwargs)
        return {**{name: getattr(self, name) for name in self._table_names()}, **module_state}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Replace the tables (same shape and dtype, else ``ValueError``) and load the rest into the module."""
        module_keys = set(torch.nn.Module.state_dict(self))
        tables = {name: value for name, value in state_dict.items() if name not in module_keys}
        for name, value in tables.items():
            self._check_table(name, value)
        for name, value in tables.items():
            setattr(self, name, value.to(getattr(self, name).device, copy=True))
        rest = {name: value for name, value in state_dict.items() if name in module_keys}
        return torch.nn.Module.load_state_dict(self, rest, strict=strict, assign=assign)
