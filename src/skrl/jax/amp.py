"""AMP (Adversarial Motion Priors) on JAX: PPO's rollout and jitted update (``skrl.jax.ppo``) with a discriminator.

Per env step: PPO's jitted act, plus one jitted call for the value of the next states (``next_values``). Per update,
one jitted call (``AMPFunctions.update``, PPO's with AMP's hooks): the style rewards from the discriminator, GAE with
the stored next values, and every epoch and mini-batch step of the policy, the value and the discriminator. The
reference (motion dataset) and replay rows are drawn inside that call with the agent's PRNG key, among the filled
rows of the memories. The backend-free schedule is in ``skrl.common.amp``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from skrl.common.amp import AMP_DEFAULT_CONFIG, AMPSchedule
from skrl.jax.ppo import PPO
from skrl.jax.ppo_functions import (
    LOSS_NAMES,
    ROLLOUT_NAMES,
    PPOFunctions,
    PPOTrainState,
    gae,
    preprocess,
    scaler_spec,
    update_statistics,
)

__all__ = ["AMP", "AMP_DEFAULT_CONFIG", "AMPFunctions", "AMPTrainState"]

AMP_ROLLOUT_NAMES = ROLLOUT_NAMES + ("amp_states", "next_values")
"""The per-step arrays an AMP update needs, each ``(rollouts, num_envs, size)``."""

_SAMPLING_STREAM = 0x414D50  # folded into the update's key for the reference and replay rows


class AMPTrainState(PPOTrainState):
    """PPO's train state plus the discriminator's parameters and optimizer and the AMP preprocessor's statistics."""

    discriminator_params: Any
    discriminator_optimizer: Any
    amp_stats: Any

    @classmethod
    def process_local(cls) -> "AMPTrainState":
        """PPO's locality; the AMP statistics are each process's own, the discriminator is the same everywhere."""
        ppo = PPOTrainState.process_local()
        fields = {field.name: getattr(ppo, field.name) for field in dataclasses.fields(PPOTrainState)}
        return cls(**fields, discriminator_params=False, discriminator_optimizer=False, amp_stats=True)


def kernel_paths(params: Any) -> tuple:
    """Paths of the Dense kernels (2-D ``kernel`` leaves) of a Flax params tree, in the order the layers were created
    (the dicts' insertion order; ``jax.tree_util`` would sort ``layers_10`` before ``layers_2``)."""
    paths = []

    def walk(node: Any, path: tuple) -> None:
        if hasattr(node, "items"):
            for key, child in node.items():
                walk(child, path + (key,))
        elif path and path[-1] == "kernel" and np.ndim(node) == 2:
            paths.append(path)

    walk(params, ())
    return tuple(paths)


def _leaf(params: Any, path: tuple) -> jax.Array:
    for key in path:
        params = params[key]
    return params


def _draw_rows(key: jax.Array, storage: jax.Array, count: jax.Array, shape: tuple) -> jax.Array:
    """Rows drawn uniformly (with replacement) among the first ``count`` flat rows of a memory's ``storage``,
    shaped ``shape + (size,)``."""
    flat = storage.reshape(-1, storage.shape[-1])
    indexes = jax.random.randint(key, (int(np.prod(shape)),), 0, jnp.maximum(count, 1))
    return flat[indexes].reshape(*shape, flat.shape[-1])


@dataclasses.dataclass(frozen=True, eq=False)
class AMPFunctions(PPOFunctions):
    """AMP's pure functions: PPO's (``PPOFunctions``) with the style rewards, GAE on the stored next values and a
    discriminator step after every policy and value step.

    Args (beyond PPO's):
        discriminator: the deterministic discriminator model (one logit per AMP observation).
        amp_spec: ``scaler_spec`` of the AMP state preprocessor.
        kernels: ``kernel_paths`` of the discriminator's parameters (the last one is the output layer's).
    """

    discriminator: Any = None
    amp_spec: Optional[tuple] = None
    kernels: tuple = ()
    state_statistics_every_epoch = True
    loss_names = LOSS_NAMES + ("discriminator_loss",)

    def logits(self, params: Any, amp_states: jax.Array) -> jax.Array:
        """The discriminator's logits of (preprocessed) AMP states ``(..., size)``, shaped ``(..., 1)``."""
        flat = amp_states.reshape(-1, amp_states.shape[-1])
        logits = self.discriminator.act({"states": flat}, role="discriminator", params=params)[0]
        return logits.reshape(*amp_states.shape[:-1], 1)

    # ---- update -------------------------------------------------------------------------------------------------

    def returns_and_advantages(self, state: AMPTrainState, rollout: dict, last_states: jax.Array) -> tuple:
        """GAE of the task and style rewards, bootstrapped with each step's stored ``next_values``."""
        del last_states
        cfg = self.cfg
        amp_states = preprocess(self.amp_spec, state.amp_stats, rollout["amp_states"])
        logits = self.logits(state.discriminator_params, amp_states)
        style = -jnp.log(jnp.maximum(1.0 - jax.nn.sigmoid(logits), 1e-4)) * cfg.discriminator_reward_scale
        rewards = cfg.task_reward_weight * rollout["rewards"] + cfg.style_reward_weight * style
        dones = jnp.logical_or(rollout["terminated"], rollout["truncated"])
        return gae(rewards, dones, rollout["values"], rollout["next_values"], cfg.discount_factor, cfg.lambda_,
                   next_values_per_step=True)

    def extra_batch(self, state: AMPTrainState, rollout: dict) -> dict:
        """The agent's AMP states, and as many reference rows (motion dataset) and replay rows (reply buffer; the
        agent's own AMP states while it is empty or absent): drawn here from device memories (``*_states`` and
        ``*_count``: the storage and its filled rows), or already drawn on the host (``*_rows``)."""
        amp_states = rollout["amp_states"]
        shape = amp_states.shape[:2]
        motion_key, replay_key = jax.random.split(jax.random.fold_in(state.key, _SAMPLING_STREAM))
        if "motion_rows" in rollout:
            motion = rollout["motion_rows"]
        else:
            motion = _draw_rows(motion_key, rollout["motion_states"], rollout["motion_count"], shape)
        if "replay_rows" in rollout:
            replay = rollout["replay_rows"]
        elif "replay_states" in rollout:
            drawn = _draw_rows(replay_key, rollout["replay_states"], rollout["replay_count"], shape)
            replay = jnp.where(rollout["replay_count"] > 0, drawn, amp_states)
        else:
            replay = amp_states
        return {"amp_states": amp_states, "motion_states": motion, "replay_states": replay}

    def auxiliary_gradients(self, state: AMPTrainState, batch: dict) -> tuple[Any, dict]:
        """The discriminator's gradients, clipped with the policy's and the value's (one joint norm, as on torch)."""
        amp_stats, inputs = self._discriminator_inputs(state.amp_stats, batch)
        loss, grads = jax.value_and_grad(self.discriminator_loss)(state.discriminator_params, *inputs)
        return grads, {"amp_stats": amp_stats, "discriminator_loss": loss}

    def apply_auxiliary_gradients(self, new: AMPTrainState, grads: Any, extra: dict, lr: Any) -> tuple:
        params, optimizer = new.discriminator_optimizer.apply_gradients(grads, new.discriminator_params, lr)
        new = new.replace(discriminator_params=params, discriminator_optimizer=optimizer, amp_stats=extra["amp_stats"])
        return new, {"discriminator_loss": extra["discriminator_loss"]}

    def _discriminator_inputs(self, amp_stats: Any, batch: dict) -> tuple:
        """The first ``discriminator_batch_size`` rows (all when 0) of the agent, replay and motion AMP states, each
        preprocessed after the AMP preprocessor learned from it (in that order)."""
        size = self.cfg.discriminator_batch_size
        inputs = []
        for name in ("amp_states", "replay_states", "motion_states"):
            rows = batch[name][:size] if size else batch[name]
            amp_stats = update_statistics(self.amp_spec, amp_stats, rows)
            inputs.append(preprocess(self.amp_spec, amp_stats, rows))
        return amp_stats, tuple(inputs)

    def discriminator_loss(self, params: Any, agent: jax.Array, replay: jax.Array, motion: jax.Array) -> jax.Array:
        """Binary cross-entropy (agent and replay: 0, motion: 1), plus the logit regularisation, the gradient penalty
        at the motion states and the weight decay (each when its scale is not 0), times the loss scale."""
        cfg = self.cfg
        fake = jnp.concatenate([self.logits(params, agent), self.logits(params, replay)], axis=0)
        real = self.logits(params, motion)
        loss = 0.5 * (jnp.mean(jax.nn.softplus(fake)) + jnp.mean(jax.nn.softplus(-real)))
        if cfg.discriminator_logit_regularization_scale:
            loss += cfg.discriminator_logit_regularization_scale * jnp.sum(jnp.square(_leaf(params, self.kernels[-1])))
        if cfg.discriminator_gradient_penalty_scale:
            gradient = jax.grad(lambda x: jnp.sum(self.logits(params, x)))(motion)
            loss += cfg.discriminator_gradient_penalty_scale * jnp.mean(jnp.sum(jnp.square(gradient), axis=-1))
        if cfg.discriminator_weight_decay_scale:
            loss += cfg.discriminator_weight_decay_scale * sum(jnp.sum(jnp.square(_leaf(params, path)))
                                                               for path in self.kernels)
        return cfg.discriminator_loss_scale * loss


def _next_values(functions: AMPFunctions, value_params: Any, stats: tuple, next_states: jax.Array,
                 done: jax.Array) -> jax.Array:
    values = functions.values_of(value_params, stats, next_states)
    return values * jnp.logical_not(jnp.reshape(done, values.shape))


class AMP(AMPSchedule, PPO):
    """Adversarial Motion Priors (JAX). Models: ``policy`` (Gaussian), ``value`` and ``discriminator``
    (deterministic, one output, on the AMP observation space); each with its own Adam optimizer."""

    functions_class = AMPFunctions

    def _ppo_build_optimizers(self) -> None:
        from skrl.resources.optimizers.jax import Adam

        self._amp_setup_discriminator()
        super()._ppo_build_optimizers()
        self.discriminator_optimizer = None
        if self.discriminator is not None and self.policy_optimizer is not None:
            with jax.default_device(self.device):
                self.discriminator_optimizer = Adam(model=self.discriminator, lr=self._learning_rate,
                                                    grad_norm_clip=self._ppo.grad_norm_clip, scale=self._scaled)
            self.checkpoint_modules["discriminator_optimizer"] = self.discriminator_optimizer

    def _ppo_trained_models(self) -> list:
        return [self.policy, self.value, self.discriminator]

    def ppo_functions(self) -> AMPFunctions:
        """PPO's functions (``skrl.jax.ppo.PPO.ppo_functions``) with the discriminator and the AMP preprocessor."""
        functions = super().ppo_functions()
        if functions.discriminator is None:
            if self.discriminator is None:
                raise ValueError("AMP needs a `discriminator` model (deterministic, one output, on the AMP "
                                 f"observation space). Received models: {sorted(self.models)}")
            kernels = kernel_paths(self.discriminator.state_dict.params)
            if not kernels:
                raise ValueError("AMP's discriminator regularisation needs Dense layers (2-D `kernel` parameters); "
                                 f"the discriminator {type(self.discriminator).__name__} has none")
            functions = dataclasses.replace(functions, discriminator=self.discriminator,
                                            amp_spec=scaler_spec(self._amp_state_preprocessor), kernels=kernels)
            self._jitted["functions"] = functions
        return functions

    def train_state(self) -> AMPTrainState:
        """PPO's train state with the discriminator, its optimizer and the AMP preprocessor's statistics."""
        base = super().train_state()
        amp_stats = self._amp_state_preprocessor.params if self.ppo_functions().amp_spec else None
        discriminator = jax.device_put((self.discriminator.state_dict.params, self.discriminator_optimizer, amp_stats),
                                       self.device)
        fields = {field.name: getattr(base, field.name) for field in dataclasses.fields(PPOTrainState)}
        return AMPTrainState(**fields, discriminator_params=discriminator[0], discriminator_optimizer=discriminator[1],
                             amp_stats=discriminator[2])

    def set_train_state(self, state: AMPTrainState) -> None:
        """Store a state returned by the update back into the models, optimizers, preprocessors and agent."""
        super().set_train_state(state)
        self.discriminator.state_dict = self.discriminator.state_dict.replace(params=state.discriminator_params)
        self.discriminator_optimizer = state.discriminator_optimizer
        self.checkpoint_modules["discriminator_optimizer"] = self.discriminator_optimizer
        if self.ppo_functions().amp_spec:
            self._amp_state_preprocessor.params = state.amp_stats

    # ---- hooks of the schedule (skrl.common.amp) -----------------------------------------------------------------

    def _amp_next_values(self, next_states: Any, done: Any) -> Any:
        params, stats = self._device_inputs()
        values = self._function("next_values", _next_values)(params[1], stats, next_states, done)
        return values if self._jax else np.asarray(values)

    def _amp_update(self, timestep: int, timesteps: int) -> Optional[dict]:
        return self._ppo_update(timestep, timesteps)

    def _amp_flat_amp_states(self) -> Any:
        return self.memory.get_tensor_by_name("amp_states", keepdim=False)

    def _rollout_arrays(self) -> dict:
        if self.motion_dataset is None or not len(self.motion_dataset):
            raise ValueError("AMP's update needs reference motions: pass a `motion_dataset` memory (filled at init by "
                             f"`collect_reference_motions`). Received: motion_dataset={self.motion_dataset!r}")
        rollout = {name: self.memory.get_tensor_by_name(name) for name in AMP_ROLLOUT_NAMES}
        rollout.update(self._reference_inputs("motion", self.motion_dataset, rollout["amp_states"]))
        if self.reply_buffer is not None:
            rollout.update(self._reference_inputs("replay", self.reply_buffer, rollout["amp_states"]))
        return jax.device_put(rollout, self.device)

    def _reference_inputs(self, name: str, memory: Any, amp_states: Any) -> dict:
        """What the update draws ``name`` rows from: a device memory as it is (the update draws among its filled
        rows); from a host memory, the rows drawn here (NumPy's RNG), so that only those travel to the device (the
        agent's own AMP states while it is empty)."""
        storage, count = memory.get_tensor_by_name("states"), len(memory)
        if isinstance(storage, jax.Array):
            return {f"{name}_states": storage, f"{name}_count": np.int32(count)}
        if not count:
            return {f"{name}_rows": amp_states}
        flat = storage.reshape(-1, storage.shape[-1])
        rows = flat[np.random.randint(0, count, int(np.prod(amp_states.shape[:2])))]
        return {f"{name}_rows": rows.reshape(*amp_states.shape[:2], flat.shape[-1])}
