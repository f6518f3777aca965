"""The JAX side of the off-policy agents: target blending, optimizers, learning rates, jitted update driver.

``JaxOffPolicy`` is listed before the agent's schedule in the bases (``class DDPG(JaxOffPolicy, DDPGSchedule,
Agent)``). Each update runs all its gradient steps in one jitted call (``lax.scan`` over the sampled batches), with
the models' parameters, optimizer states, preprocessor statistics and PRNG key as the scan carry; the losses come
back as device scalars and are tracked without a host sync.

In a distributed run the update runs on every process at once (``skrl.jax.distributed.over_processes``): each
process samples its own batches from its own replay memory, and every optimizer step (``apply_gradients``) averages
the gradients over the processes, so that the parameters (targets included) stay equal on every process.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.off_policy import UpdatePlan, reduce_over_steps
from skrl.jax import distributed


def polyak_blend(source: Any, target: Any, polyak: float) -> Any:
    """``polyak·source + (1 - polyak)·target`` leaf by leaf (pure, for jitted code)."""
    return jax.tree_util.tree_map(lambda s, t: polyak * s + (1 - polyak) * t, source, target)


def preprocess(scaler: Any, statistics: Any, x: jax.Array, train: bool = False) -> tuple[jax.Array, Any]:
    """``(scaled x, statistics)`` through a ``RunningStandardScaler``'s pure ``apply``; identity when ``scaler`` is None."""
    if scaler is None:
        return x, statistics
    return scaler.apply(statistics, x, train=train)


def mse(predicted: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error."""
    return jnp.mean((predicted - target) ** 2)


def apply_gradients(optimizer: Any, grads: Any, params: Any, lr: Optional[jax.Array] = None,
                    axis_name: Optional[str] = None) -> tuple[Any, Any]:
    """``optimizer.apply_gradients`` (pure): ``(new params, new optimizer)``; with ``axis_name`` (under
    ``over_processes``) the gradients are first averaged over the processes, so the norm clipping sees the mean."""
    return optimizer.apply_gradients(distributed.process_mean(grads, axis_name), params, lr)


def critic_values(models: Mapping[str, Any], roles: Sequence[str], params: Mapping[str, Any], states: jax.Array,
                  actions: jax.Array, extra: Optional[Mapping[str, Any]] = None) -> list[jax.Array]:
    """Each critic's value of ``(states, actions)`` with the given parameters (``extra``: more inputs, such as the
    RNN variants' states)."""
    inputs = {"states": states, "taken_actions": actions, **(extra or {})}
    return [models[role].act(inputs, role=role, params=params[role])[0] for role in roles]


def update_critics(models: Mapping[str, Any], roles: Sequence[str], optimizer_names: Sequence[str], params: dict,
                   optimizers: dict, batch: tuple, targets: jax.Array, lr: Optional[jax.Array],
                   axis_name: Optional[str] = None, extra: Optional[Mapping[str, Any]] = None) -> tuple[list, list]:
    """Regress every critic on ``targets``, each with its own gradient and optimizer (``params`` and ``optimizers``
    are updated in place); returns the losses and the predicted values. skrl 1.4.3 JAX stepped every critic with
    the last critic's gradient. ``axis_name``: see ``apply_gradients``."""
    states, actions = batch
    losses, values = [], []
    for role, name in zip(roles, optimizer_names):
        def loss_fn(p: Any, role: str = role) -> tuple:
            value = critic_values(models, (role,), {role: p}, states, actions, extra)[0]
            return mse(value, targets), value

        (loss, value), grad = jax.value_and_grad(loss_fn, has_aux=True)(params[role])
        params[role], optimizers[name] = apply_gradients(optimizers[name], grad, params[role], lr, axis_name)
        losses.append(loss)
        values.append(value)
    return losses, values


def scan_update(step: Callable, carry: Any, batches: Sequence[Sequence[Any]], per_step: Any,
                masks: Optional[Mapping[str, Any]] = None) -> tuple[Any, dict]:
    """Run ``step(carry, (batch, per_step inputs))`` over the stacked ``batches``; results reduced over the steps."""
    stacked = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *batches)
    carry, results = jax.lax.scan(step, carry, (stacked, per_step))
    return carry, reduce_over_steps(jnp, results, masks)


class JaxOffPolicy:
    """Backend hooks of the off-policy agents on JAX (see the module docstring)."""

    _float_dtype = np.float32
    _bool_dtype = np.bool_
    _index_dtype = np.int32

    # attributes of the agent this mixin is combined with (for type checkers)
    cfg: dict
    device: Any
    memory: Any
    models: Mapping[str, Any]
    checkpoint_modules: dict
    _off: Any
    _tensors_names: list

    #: the carry entries that differ between the processes of a distributed run (each process's own batches update
    #: its preprocessor statistics and noise state; its PRNG key is its own); the rest stays equal on every process
    _process_local_carry = frozenset({"statistics", "key", "smooth"})

    def _copy_to_target(self, target: Any, source: Any) -> None:
        target.update_parameters(source, polyak=1)

    def _setup_training(self, salt: int) -> None:
        """Array backend, the agent's PRNG stream, the schedule and the jit cache; agents call it first.

        Weakly typed parameters (e.g. a log-std initialised from a Python float) are made strongly typed here,
        once: the first update would otherwise change their type and make every jitted function compile again.
        """
        for model in self.models.values():
            params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype=x.dtype) if getattr(x, "weak_type", False)
                                            else x, model.state_dict.params)
            model.state_dict = model.state_dict.replace(params=params)
        self._jax = config.jax.backend == "jax"
        self._key = jax.random.fold_in(config.jax.key, salt)
        self._axis_name = distributed.process_axis()  # set: the update averages every gradient over the processes
        self._jitted: dict[str, Any] = {}
        factory = self.cfg["learning_rate_scheduler"]
        self.scheduler = factory(**self.cfg["learning_rate_scheduler_kwargs"]) if factory else None
        self._base_learning_rates: dict[str, float] = {}
        self._learning_rates: dict[str, float] = {}
        self._optimizers: list[str] = []

    def _make_optimizer(self, name: str, model: Any, lr: float, grad_norm_clip: float = 0,
                        group: Optional[str] = None) -> Any:
        """``Adam`` for ``model`` as ``self.<name>`` (checkpointed). Optimizers of a ``group`` follow the scheduler:
        they return raw Adam directions scaled by the group's learning rate of each step."""
        from skrl.resources.optimizers.jax import Adam

        scheduled = group is not None and self.scheduler is not None
        with jax.default_device(self.device):
            optimizer = Adam(model=model, lr=lr, grad_norm_clip=grad_norm_clip, scale=not scheduled)
        self._set_optimizer(name, optimizer)
        self._optimizers.append(name)
        if group is not None:
            self._base_learning_rates[group] = float(lr)
            self._learning_rates[group] = float(lr)
        return optimizer

    def _set_optimizer(self, name: str, optimizer: Any) -> None:
        setattr(self, name, optimizer)
        self.checkpoint_modules[name] = optimizer

    def _step_learning_rates(self, plan: UpdatePlan) -> dict[str, Optional[np.ndarray]]:
        """Per-step learning rate of each group: ``base · schedule(steps of the group so far)`` (None without a
        scheduler), the torch schedulers' cadence; the rate after the update is kept for tracking (as torch's
        ``get_last_lr()``).

        skrl 1.4.3 multiplied the rate by the schedule at every step, compounding it; here the schedule gives the
        factor of the configured rate, as optax schedules mean it.
        """
        if self.scheduler is None:
            return {group: None for group in self._base_learning_rates}
        rates = {group: base * self._schedule_factors(plan.step_counts(group))
                 for group, base in self._base_learning_rates.items()}
        self._learning_rates = {group: float(values[-1]) for group, values in rates.items()}
        return {group: values[:-1] for group, values in rates.items()}

    def _schedule_factors(self, counts: list[int]) -> np.ndarray:
        """The schedule at every count: one vectorised call (optax schedules), else one call per count."""
        try:
            factors = np.asarray(self.scheduler(np.asarray(counts)), dtype=np.float32)
            return np.broadcast_to(factors, (len(counts),)).copy()
        except (TypeError, ValueError, jax.errors.ConcretizationTypeError):
            return np.asarray([float(self.scheduler(count)) for count in counts], dtype=np.float32)

    def _learning_rate(self, group: str) -> float:
        return self._learning_rates[group]

    def _scaler(self) -> Any:
        """The state preprocessor when it is a scaler with a pure ``apply`` (None for the identity)."""
        preprocessor = self._state_preprocessor
        return preprocessor if hasattr(preprocessor, "apply") and hasattr(preprocessor, "params") else None

    def _statistics(self) -> Any:
        scaler = self._scaler()
        return scaler.params if scaler is not None else None

    def _sample_batches(self, steps: int) -> tuple:
        """One batch of the replay tensors per gradient step (arrays of the memory's backend)."""
        return tuple(tuple(self.memory.sample(self._tensors_names, self._off.batch_size)[0]) for _ in range(steps))

    def _batch_inputs(self, batch: Sequence[Any]) -> tuple[tuple, dict]:
        """``(replay arrays, more inputs of every model call)`` of one sampled batch (traced; the RNN variants add
        the sampled states and dones)."""
        return tuple(batch), {}

    def _params(self, roles: Sequence[str]) -> dict[str, Any]:
        return {role: self.models[role].state_dict.params for role in roles}

    def _store_params(self, params: Mapping[str, Any]) -> None:
        for role, value in params.items():
            model = self.models[role]
            model.state_dict = model.state_dict.replace(params=value)

    def _store_statistics(self, statistics: Any) -> None:
        scaler = self._scaler()
        if scaler is not None:
            scaler.params = statistics

    def _critic_optimizer_names(self) -> list[str]:
        """``critic_optimizer`` for one critic, else ``<critic role>_optimizer`` (the skrl 1.4.3 JAX names)."""
        roles = self.critic_roles  # type: ignore[attr-defined]
        return ["critic_optimizer"] if len(roles) == 1 else [f"{role}_optimizer" for role in roles]

    def _training_carry(self, extra: Optional[Mapping[str, Any]] = None) -> dict:
        """The scan carry: parameters of every model, optimizers, preprocessor statistics, PRNG key and ``extra``."""
        return {"params": self._params(list(self.models)), "optimizers": {n: getattr(self, n) for n in self._optimizers},
                "statistics": self._statistics(), "key": self._key, **(extra or {})}

    def _store_training_carry(self, carry: Mapping[str, Any]) -> None:
        self._store_params(carry["params"])
        for name, optimizer in carry["optimizers"].items():
            self._set_optimizer(name, optimizer)
        self._store_statistics(carry["statistics"])
        self._key = carry["key"]

    def _compiled(self, name: str, build: Callable[[], Callable]) -> Callable:
        """``jax.jit`` of the function ``build()`` returns, built once per agent (it closes over the models)."""
        if name not in self._jitted:
            self._jitted[name] = jax.jit(build())
        return self._jitted[name]

    def _run_update(self, carry: dict, batches: tuple, *shared: Any) -> tuple:
        """``(carry, results)`` of the agent's ``_update_function()`` called with ``(carry, batches, *shared)``,
        compiled once. In a distributed run it runs on every process at once: the batches, the results and the
        ``_process_local_carry`` entries are each process's own, ``shared`` (learning rates, flags) is equal."""
        if "update" not in self._jitted:
            local = {name: name in self._process_local_carry for name in carry}
            locality = ((local, True, *(False,) * len(shared)), (local, True))
            self._jitted["update"] = distributed.jit(self._update_function(), locality)
        return self._jitted["update"](carry, batches, *shared)

    def _host_actions(self, actions: jax.Array, outputs: dict) -> tuple[Any, dict]:
        """With the "numpy" array backend, fetch the actions and ``outputs["mean_actions"]`` (if any) in one transfer
        (the env and the memory want NumPy; deterministic evaluation uses the mean actions)."""
        if self._jax:
            return actions, outputs
        if "mean_actions" in outputs:
            actions, outputs["mean_actions"] = jax.device_get((actions, outputs["mean_actions"]))
            return actions, outputs
        return jax.device_get(actions), outputs

    def _action_clipper(self, bounds: Optional[tuple]) -> Callable[[jax.Array], jax.Array]:
        """A traceable function clipping actions to ``bounds`` (``(low, high)`` arrays), or the identity."""
        if bounds is None:
            return lambda actions: actions
        low, high = (np.asarray(b, dtype=np.float32) for b in bounds)
        return functools.partial(jnp.clip, min=low, max=high)

    def _check_noise(self, key: str, noise: Any) -> None:
        from skrl.jax.noises import Noise

        transition = getattr(type(noise), "transition", None)
        if transition is None or transition is Noise.transition:
            raise TypeError(f"Invalid `{key}`: JAX agents draw their noise inside jitted code and need a noise with "
                            "the pure `transition(key, state, shape)` of skrl.resources.noises.jax (GaussianNoise, "
                            f"OrnsteinUhlenbeckNoise, or a Noise subclass implementing it). Received: {noise!r}")

    def _noise_state_from_host(self, noise: Any, state: Any) -> Any:
        return np.asarray(state, dtype=np.float32)
