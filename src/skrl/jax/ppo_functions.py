"""PPO's array work on JAX as pure functions: acting, returns/advantages and the whole update.

``PPOFunctions`` closes over what is static (the models' apply functions, the validated config, the
preprocessor settings); everything that changes is in a ``PPOTrainState`` pytree. The agent
(``skrl.jax.ppo.PPO``) calls these functions through ``jax.jit`` with its own parameters; the jitted trainer
(``skrl.jax.jitted_trainer``) calls the very same functions inside its ``lax`` loop, so both paths learn alike.

The update runs every epoch and mini-batch (shuffling included) in one traced function: ``lax.scan`` over the
epochs, and within each epoch ``lax.scan`` over the mini-batches, so its size does not grow with the rollout
length, the number of epochs or the number of mini-batches.

In a distributed run the update runs on every process at once (``skrl.jax.distributed.over_processes``, with
``PPOFunctions.axis_name`` set): each process's rollout stays its own, and every mini-batch step averages the
gradients and the KL over the processes, so that the parameters stay equal on every process.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Optional

import flax
import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from skrl.common.memory_core import split_bounds

ROLLOUT_NAMES = ("states", "actions", "rewards", "terminated", "truncated", "log_prob", "values")
"""The per-step arrays an update needs, each ``(rollouts, num_envs, size)``."""

LOSS_NAMES = ("policy_loss", "value_loss", "entropy_loss")


class PPOTrainState(flax.struct.PyTreeNode):
    """What the update changes: parameters, optimizer states, preprocessor statistics, learning rate, PRNG key.

    ``state_stats``/``value_stats`` are None without a ``RunningStandardScaler``; the optimizers are skrl JAX
    ``Optimizer`` pytrees; ``learning_rate`` is a float32 scalar (used when a scheduler is configured).
    """

    policy_params: Any
    value_params: Any
    policy_optimizer: Any
    value_optimizer: Any
    state_stats: Any
    value_stats: Any
    learning_rate: jax.Array
    key: jax.Array

    @classmethod
    def process_local(cls) -> "PPOTrainState":
        """Which fields differ between the processes of a distributed run (a prefix tree for
        ``skrl.jax.distributed.over_processes``): the PRNG key and the preprocessors' statistics (each process
        standardises with its own data, as on torch). Parameters, optimizer states and learning rate stay equal:
        every process steps with the gradients and KL averaged over the processes."""
        return cls(policy_params=False, value_params=False, policy_optimizer=False, value_optimizer=False,
                   state_stats=True, value_stats=True, learning_rate=False, key=True)


def clip_by_joint_norm(grads: tuple, max_norm: float) -> tuple:
    """Every gradient in ``grads`` scaled by ``min(1, max_norm / (norm + 1e-6))``, where ``norm`` is the global norm of
    all of them together (torch's ``clip_grad_norm_`` over several models' parameters); unchanged when
    ``max_norm <= 0``. Each model's own optimizer clip then never fires: its share of the norm is below ``max_norm``."""
    if not max_norm > 0:
        return grads
    norm = optax.tree.norm(grads)
    scale = jnp.minimum(1.0, max_norm / (norm + 1e-6))
    return jax.tree_util.tree_map(lambda g: g * scale, grads)


def scaler_spec(preprocessor: Any) -> Optional[tuple]:
    """Static description of a preprocessor for traced code: None (identity) or ``(clip_threshold, epsilon)``."""
    if hasattr(preprocessor, "params") and hasattr(preprocessor, "apply"):
        return (preprocessor.clip_threshold, preprocessor.epsilon)
    return None


def preprocess(spec: Optional[tuple], stats: Any, x: jax.Array, inverse: bool = False) -> jax.Array:
    """Standardise ``x`` (or undo it) with a running scaler's statistics; identity when ``spec`` is None."""
    if spec is None:
        return x
    from skrl.resources.preprocessors.jax.running_standard_scaler import standardize

    return standardize(stats, x, inverse, spec[0], spec[1])


def update_statistics(spec: Optional[tuple], stats: Any, x: jax.Array) -> Any:
    """Running statistics after seeing the batch ``x`` (unchanged when ``spec`` is None)."""
    if spec is None:
        return stats
    from skrl.resources.preprocessors.jax.running_standard_scaler import update

    return update(stats, x)


def gae(rewards: jax.Array, dones: jax.Array, values: jax.Array, next_values: jax.Array, discount_factor: float,
        lambda_coefficient: float, next_values_per_step: bool = False) -> tuple[jax.Array, jax.Array]:
    """Returns and normalised advantages over a ``(T, N, 1)`` rollout, by a reverse ``lax.scan`` over ``T``.

    ``next_values`` is the value of the states after the last step; with ``next_values_per_step`` it is the
    ``(T, N, 1)`` value of each step's next states (AMP: stored at each step, already zero where the episode
    terminated), and ``dones`` then only cut the recursion. Advantages are normalised with the population standard
    deviation (a one-sample rollout gives 0, not NaN).
    """
    not_dones = 1.0 - dones.astype(jnp.float32)
    following = next_values if next_values_per_step else jnp.concatenate([values[1:], next_values[None]], axis=0)

    def step(advantage: jax.Array, row: tuple) -> tuple:
        reward, not_done, value, next_value = row
        if next_values_per_step:
            advantage = reward - value + discount_factor * (next_value + lambda_coefficient * not_done * advantage)
        else:
            advantage = reward - value + discount_factor * not_done * (next_value + lambda_coefficient * advantage)
        return advantage, advantage

    _, advantages = jax.lax.scan(step, jnp.zeros_like(rewards[0]), (rewards, not_dones, values, following), reverse=True)
    returns = advantages + values
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    return returns, advantages


compute_gae = jax.jit(gae, static_argnames=("discount_factor", "lambda_coefficient", "next_values_per_step"))


def _select(condition: jax.Array, new: Any, old: Any) -> Any:
    return jax.tree_util.tree_map(lambda n, o: jnp.where(condition, n, o), new, old)


class FlatParameters:
    """A model's parameters and optimizer state as flat vectors for the duration of an update.

    Adam and the global-norm clip act element-wise (the norm over every leaf), so they give the same result on
    one concatenated vector; the update then compiles a few kernels per model instead of a few per leaf.
    """

    def __init__(self, params: Any, optimizer: Any) -> None:
        self.flat, self.unravel = ravel_pytree(params)
        structure = jax.tree_util.tree_structure(params)
        shapes = [jnp.shape(leaf) for leaf in jax.tree_util.tree_leaves(params)]
        self._like_params = lambda node: (jax.tree_util.tree_structure(node) == structure
                                          and [jnp.shape(leaf) for leaf in jax.tree_util.tree_leaves(node)] == shapes)
        self.optimizer = optimizer
        if optimizer is not None:
            leaves, self._treedef = jax.tree_util.tree_flatten(optimizer.state, is_leaf=self._like_params)
            self._mask = [self._like_params(leaf) for leaf in leaves]
            flat = [ravel_pytree(leaf)[0] if raveled else leaf for leaf, raveled in zip(leaves, self._mask)]
            self.optimizer = optimizer.replace(state=self._treedef.unflatten(flat))

    def restore_optimizer(self, optimizer: Any) -> Any:
        """The optimizer with its state back in the parameters' tree layout."""
        if optimizer is None:
            return None
        leaves = jax.tree_util.tree_leaves(optimizer.state)
        restored = [self.unravel(leaf) if raveled else leaf for leaf, raveled in zip(leaves, self._mask)]
        return optimizer.replace(state=self._treedef.unflatten(restored))


def minibatch_groups(total: int, mini_batches: int) -> list[tuple[int, int, int]]:
    """``(start, count, size)`` runs of equal-size mini-batches covering a permutation of ``total`` rows.

    The mini-batches are the near-equal contiguous pieces of ``split_bounds`` (none empty): at most two runs,
    so that each run is one ``lax.scan``. ``minibatch_groups(10, 3)`` gives ``[(0, 1, 4), (4, 2, 3)]``.
    """
    bounds = split_bounds(total, max(1, min(mini_batches, total)))
    groups: list[tuple[int, int, int]] = []
    for start, stop in bounds:
        if groups and groups[-1][2] == stop - start:
            first, count, size = groups[-1]
            groups[-1] = (first, count + 1, size)
        else:
            groups.append((start, 1, stop - start))
    return groups


@dataclasses.dataclass(frozen=True, eq=False)
class PPOFunctions:
    """PPO's pure functions for one agent (see the module docstring).

    Args:
        policy: the stochastic policy model. value: the deterministic value model.
        cfg: the validated ``PPOConfig``.
        state_spec / value_spec: ``scaler_spec`` of the state and value preprocessors.
        lr_mode: ``"fixed"`` (the optimizers hold the rate), ``"kl"`` (adapted after every epoch by ``kl_schedule``)
            or ``"schedule"`` (the caller passes the scheduled rate to ``update``).
        kl_schedule: the KL-adaptive schedule, ``schedule(count, lr, kl)``, traceable.
        extra_inputs: ``(name, value)`` pairs added to the inputs of every model call (RPO's ``alpha``).
        axis_name: distributed runs: the axis over the processes (``skrl.jax.distributed.AXIS_NAME``) under which
            ``update`` runs (``over_processes``); every mini-batch step then averages the gradients and the KL
            over the processes (``lax.pmean``), before the norm clipping, the KL early stop and the KL schedule.
    """

    policy: Any
    value: Any
    cfg: Any
    state_spec: Optional[tuple] = None
    value_spec: Optional[tuple] = None
    lr_mode: str = "fixed"
    kl_schedule: Optional[Callable] = None
    extra_inputs: tuple = ()
    axis_name: Optional[str] = None
    #: mini-batches from a fresh random permutation every epoch (A2C: contiguous, unshuffled slices)
    shuffle = True
    #: the state preprocessor learns in every epoch (AMP), not in the first one only
    state_statistics_every_epoch = False
    #: the losses averaged over the mini-batches that stepped (``update``'s metrics)
    loss_names = LOSS_NAMES

    # ---- acting -------------------------------------------------------------------------------------------------

    def model_inputs(self, states: jax.Array) -> dict:
        """The inputs of the policy and value models for (preprocessed) ``states``."""
        return {"states": states, **dict(self.extra_inputs)}

    def act(self, params: tuple, stats: tuple, states: jax.Array, key: jax.Array) -> tuple:
        """Sample actions: ``(actions, log_prob, outputs, values)`` for ``params = (policy, value)``."""
        states = preprocess(self.state_spec, stats[0], states)
        actions, log_prob, outputs = self.policy.act({**self.model_inputs(states), "key": key}, role="policy",
                                                     params=params[0])
        values = self.value.act(self.model_inputs(states), role="value", params=params[1])[0]
        return actions, log_prob, outputs, preprocess(self.value_spec, stats[1], values, inverse=True)

    def values_of(self, value_params: Any, stats: tuple, states: jax.Array, inputs: Optional[dict] = None) -> jax.Array:
        """Value estimates of ``states``, in the units of the rewards (value preprocessor undone); ``inputs`` are
        further inputs of the value call (an RNN variant's recurrent states)."""
        states = preprocess(self.state_spec, stats[0], states)
        values = self.value.act({**self.model_inputs(states), **(inputs or {})}, role="value", params=value_params)[0]
        return preprocess(self.value_spec, stats[1], values, inverse=True)

    # ---- hooks of the RNN variants (``skrl.jax.rnn``): nothing here ---------------------------------------------

    def role_inputs(self, role: str, batch: dict) -> dict:
        """Further inputs of the ``role`` model call for the mini-batch ``batch`` (the RNN variants' states)."""
        del role, batch
        return {}

    def last_value_inputs(self, rollout: dict) -> dict:
        """Further inputs of the value call for the states after the rollout's last step."""
        del rollout
        return {}

    def flatten_rollout(self, batch: dict, rollout: dict, rows: int) -> dict:
        """The update's ``(rollouts, num_envs, ...)`` arrays as ``(rows, ...)`` rows, step-major (row ``t * num_envs
        + e``); the RNN variants order them by env and add their states."""
        del rollout
        return {name: x.reshape((rows,) + x.shape[2:]) for name, x in batch.items()}

    # ---- update -------------------------------------------------------------------------------------------------

    def advantages(self, state: PPOTrainState, rollout: dict, last_states: jax.Array) -> tuple:
        """GAE over the rollout, then the value preprocessor (trained on the values, then on the returns).

        Returns ``(value_stats, values, returns, advantages)``, values and returns in preprocessed units.
        """
        values = rollout["values"]
        returns, advantages = self.returns_and_advantages(state, rollout, last_states)
        value_stats = update_statistics(self.value_spec, state.value_stats, values)
        values = preprocess(self.value_spec, value_stats, values)
        value_stats = update_statistics(self.value_spec, value_stats, returns)
        returns = preprocess(self.value_spec, value_stats, returns)
        return value_stats, values, returns, advantages

    def returns_and_advantages(self, state: PPOTrainState, rollout: dict, last_states: jax.Array) -> tuple:
        """GAE of the rollout's rewards, bootstrapped with the value of ``last_states``: ``(returns, advantages)``."""
        stats = (state.state_stats, state.value_stats)
        last_values = self.values_of(state.value_params, stats, last_states, self.last_value_inputs(rollout))
        dones = jnp.logical_or(rollout["terminated"], rollout["truncated"])
        return gae(rollout["rewards"], dones, rollout["values"], last_values, self.cfg.discount_factor,
                   self.cfg.lambda_)

    def extra_batch(self, state: PPOTrainState, rollout: dict) -> dict:
        """More ``(rollouts, num_envs, ...)`` arrays the mini-batches carry (AMP: its AMP states and reference rows)."""
        del state, rollout
        return {}

    def update(self, state: PPOTrainState, rollout: dict, last_states: jax.Array,
               scheduled_lr: Optional[jax.Array] = None) -> tuple:
        """Returns/advantages and every epoch and mini-batch step, in one traced function.

        Returns ``(state, metrics, (values, returns, advantages))``: ``metrics`` holds the mean losses over the
        mini-batches that stepped (``count`` of them), the last one's ``stddev`` and the ``learning_rate``.
        """
        value_stats, values, returns, advantages = self.advantages(state, rollout, last_states)
        state = state.replace(value_stats=value_stats)
        rows = values.shape[0] * values.shape[1]
        batch = {"states": rollout["states"], "actions": rollout["actions"], "log_prob": rollout["log_prob"],
                 "values": values, "returns": returns, "advantages": advantages, **self.extra_batch(state, rollout)}
        flat = self.flatten_rollout(batch, rollout, rows)
        zero = jnp.zeros((), jnp.float32)
        totals = {**{name: zero for name in self.loss_names}, "count": zero, "stddev": jnp.full((), jnp.nan, jnp.float32)}
        layout = (FlatParameters(state.policy_params, state.policy_optimizer),
                  FlatParameters(state.value_params, state.value_optimizer))
        state = state.replace(policy_params=layout[0].flat, value_params=layout[1].flat,
                              policy_optimizer=layout[0].optimizer, value_optimizer=layout[1].optimizer)
        epoch = functools.partial(self._epoch, flat, rows, scheduled_lr, layout)
        (state, totals), _ = jax.lax.scan(epoch, (state, totals), jnp.arange(self.cfg.learning_epochs))
        state = state.replace(policy_params=layout[0].unravel(state.policy_params),
                              value_params=layout[1].unravel(state.value_params),
                              policy_optimizer=layout[0].restore_optimizer(state.policy_optimizer),
                              value_optimizer=layout[1].restore_optimizer(state.value_optimizer))
        metrics = {name: totals[name] / totals["count"] for name in self.loss_names}
        metrics.update(count=totals["count"], stddev=totals["stddev"], learning_rate=state.learning_rate)
        return state, metrics, (values, returns, advantages)

    def _epoch(self, flat: dict, rows: int, scheduled_lr: Any, layout: tuple, carry: tuple, epoch: jax.Array) -> tuple:
        state, totals = carry
        groups = minibatch_groups(rows, self.cfg.mini_batches)
        keys = jax.random.split(state.key, 2 + sum(count for _, count, _ in groups))
        order = jnp.argsort(jax.random.uniform(keys[1], (rows,))) if self.shuffle else jnp.arange(rows)
        zero = jnp.zeros((), jnp.float32)
        progress = {"stopped": jnp.asarray(False), "kl_sum": zero, "kl_count": zero}
        carry, first_key = (state.replace(key=keys[0]), totals, progress), 2
        for start, count, size in groups:
            indexes = order[start:start + count * size].reshape(count, size)
            step = functools.partial(self._minibatch, flat, epoch, layout)
            carry, _ = jax.lax.scan(step, carry, (indexes, keys[first_key:first_key + count]))
            first_key += count
        state, totals, progress = carry
        return (state.replace(learning_rate=self._next_learning_rate(state, progress, scheduled_lr)), totals), None

    def _next_learning_rate(self, state: PPOTrainState, progress: dict, scheduled_lr: Any) -> jax.Array:
        """The rate after an epoch: KL-adapted to the epoch's mean KL, the scheduled rate, or unchanged."""
        if self.lr_mode == "kl":
            mean_kl = progress["kl_sum"] / progress["kl_count"]
            return jnp.asarray(self.kl_schedule(0, state.learning_rate, mean_kl), jnp.float32)
        if self.lr_mode == "schedule":
            return jnp.asarray(scheduled_lr, jnp.float32)
        return state.learning_rate

    def _minibatch(self, flat: dict, epoch: jax.Array, layout: tuple, carry: tuple, rows: tuple) -> tuple:
        """One mini-batch step; after the KL early stop fired in this epoch the step changes nothing."""
        state, totals, progress = carry
        indexes, subkey = rows
        batch = {name: x[indexes] for name, x in flat.items()}
        stats = state.state_stats
        if self.state_spec is not None:  # the state preprocessor learns during the first epoch only (AMP: every one)
            updated = update_statistics(self.state_spec, stats, batch["states"])
            stats = updated if self.state_statistics_every_epoch else _select(epoch == 0, updated, stats)
        new, losses = self.gradient_step(state, preprocess(self.state_spec, stats, batch["states"]), batch, subkey, layout)
        if self.cfg.kl_threshold:
            active = jnp.logical_not(progress["stopped"])
            stop = jnp.logical_and(active, losses["kl"] > self.cfg.kl_threshold)
            stepped = jnp.logical_and(active, jnp.logical_not(stop))
            new = _select(stepped, new, state).replace(state_stats=_select(active, stats, state.state_stats))
        else:
            active = stepped = jnp.asarray(True)
            stop = jnp.asarray(False)
            new = new.replace(state_stats=stats)
        weight = stepped.astype(jnp.float32)
        totals = {**{name: totals[name] + weight * losses[name] for name in self.loss_names},
                  "count": totals["count"] + weight, "stddev": jnp.where(stepped, losses["stddev"], totals["stddev"])}
        progress = {"stopped": jnp.logical_or(progress["stopped"], stop),
                    "kl_sum": progress["kl_sum"] + jnp.where(active, losses["kl"], 0.0),
                    "kl_count": progress["kl_count"] + active.astype(jnp.float32)}
        return (new.replace(key=state.key), totals, progress), None

    def gradient_step(self, state: PPOTrainState, states: jax.Array, batch: dict, key: jax.Array,
                      layout: tuple) -> tuple:
        """Losses, gradients and one Adam step for the policy, the value model (flat parameters) and any model an
        algorithm trains beside them (``auxiliary_gradients``), all clipped on their joint norm, as skrl's torch
        agents clip the single optimizer over every trained model (``clip_by_joint_norm``).

        With ``axis_name`` the gradients and the KL are the means over the processes (the clipping sees the mean).

        Returns ``(new_state, losses)`` with ``policy_loss``, ``value_loss``, ``entropy_loss``, ``kl``, ``stddev``.
        """
        def policy_objective(flat: jax.Array) -> tuple:
            return self.policy_loss(layout[0].unravel(flat), states, batch, key)

        def value_objective(flat: jax.Array) -> jax.Array:
            return self.value_loss(layout[1].unravel(flat), states, batch)

        (_, aux), policy_grads = jax.value_and_grad(policy_objective, has_aux=True)(state.policy_params)
        value_loss, value_grads = jax.value_and_grad(value_objective)(state.value_params)
        other_grads, other = self.auxiliary_gradients(state, batch)
        if self.axis_name is not None:  # every process takes the same step: the one of the mean gradients
            policy_grads, value_grads, other_grads, kl = jax.lax.pmean(
                (policy_grads, value_grads, other_grads, aux["kl"]), self.axis_name)
            aux = {**aux, "kl": kl}
        policy_grads, value_grads, other_grads = clip_by_joint_norm((policy_grads, value_grads, other_grads),
                                                                    self.cfg.grad_norm_clip)
        lr = None if self.lr_mode == "fixed" else state.learning_rate
        policy_params, policy_optimizer = state.policy_optimizer.apply_gradients(policy_grads, state.policy_params, lr)
        value_params, value_optimizer = state.value_optimizer.apply_gradients(value_grads, state.value_params, lr)
        new = state.replace(policy_params=policy_params, value_params=value_params, policy_optimizer=policy_optimizer,
                            value_optimizer=value_optimizer)
        new, other_losses = self.apply_auxiliary_gradients(new, other_grads, other, lr)
        return new, {**aux, "value_loss": value_loss, **other_losses}

    def auxiliary_gradients(self, state: PPOTrainState, batch: dict) -> tuple[Any, dict]:
        """Gradients of the models an algorithm trains in the same step besides the policy and the value model
        (none for PPO), and what applying them needs."""
        return None, {}

    def apply_auxiliary_gradients(self, new: PPOTrainState, grads: Any, extra: dict, lr: Any) -> tuple:
        """Step the models of ``auxiliary_gradients`` with their clipped ``grads``: ``(new_state, extra losses)``."""
        return new, {}

    def policy_loss(self, params: Any, states: jax.Array, batch: dict, key: jax.Array) -> tuple:
        """Clipped surrogate plus entropy term (both differentiated); aux: the parts, the KL and the stddev."""
        cfg = self.cfg
        inputs = {**self.model_inputs(states), **self.role_inputs("policy", batch), "taken_actions": batch["actions"],
                  "key": key}
        _, log_prob, outputs = self.policy.act(inputs, role="policy", params=params)
        log_ratio = log_prob - batch["log_prob"]
        kl = jax.lax.stop_gradient(jnp.mean((jnp.exp(log_ratio) - 1) - log_ratio))
        policy_loss = self.surrogate_loss(log_prob, log_ratio, batch["advantages"])
        entropy_loss = -cfg.entropy_loss_scale * jnp.mean(outputs["entropy"]) if cfg.entropy_loss_scale else jnp.zeros(())
        stddev = jnp.mean(outputs["stddev"]) if "stddev" in outputs else jnp.full((), jnp.nan)
        aux = {"policy_loss": policy_loss, "entropy_loss": jnp.asarray(entropy_loss, jnp.float32), "kl": kl,
               "stddev": jnp.asarray(stddev, jnp.float32)}
        return policy_loss + entropy_loss, aux

    def surrogate_loss(self, log_prob: jax.Array, log_ratio: jax.Array, advantages: jax.Array) -> jax.Array:
        """PPO's clipped surrogate objective, negated (A2C overrides it with the plain policy gradient)."""
        del log_prob
        ratio = jnp.exp(log_ratio)
        clipped = jnp.clip(ratio, 1.0 - self.cfg.ratio_clip, 1.0 + self.cfg.ratio_clip)
        return -jnp.mean(jnp.minimum(advantages * ratio, advantages * clipped))

    def value_loss(self, params: Any, states: jax.Array, batch: dict) -> jax.Array:
        """Scaled mean squared error to the returns, the prediction optionally clipped around the stored values."""
        cfg = self.cfg
        predicted = self.value.act({**self.model_inputs(states), **self.role_inputs("value", batch)}, role="value",
                                   params=params)[0]
        if cfg.clip_predicted_values:
            old = batch["values"]
            predicted = old + jnp.clip(predicted - old, -cfg.value_clip, cfg.value_clip)
        return cfg.value_loss_scale * jnp.mean(jnp.square(batch["returns"] - predicted))
