"""PPO on JAX: one jitted call per env step (act + value, PRNG key split inside), one jitted call per update.

The update (returns/advantages, every epoch and mini-batch, shuffling, KL early stop, learning-rate schedule) is
``PPOFunctions.update`` from ``skrl.jax.ppo_functions``, also used by the jitted trainer; in a distributed run it
runs on every process at once and averages the gradients over the processes (``skrl.jax.distributed``). Its losses stay on the
device until the agent core writes them. With the "jax" array backend a step's samples are written into the
memory in one dispatch, in place (donated buffers). The schedule (rollouts, tags) is in ``skrl.common.ppo``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Optional

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from skrl import config
from skrl.common.memory_core import plan_samples_write
from skrl.common.ppo import PPOSchedule
from skrl.jax import distributed
from skrl.jax.agent_base import Agent
from skrl.jax.device_trees import commit
from skrl.jax.ppo_functions import ROLLOUT_NAMES, PPOFunctions, PPOTrainState, compute_gae, scaler_spec

__all__ = ["PPO", "compute_gae"]


def _act_step(functions: PPOFunctions, params: tuple, stats: tuple, states: jax.Array, key: jax.Array) -> tuple:
    key, subkey = jax.random.split(key)
    return (key, *functions.act(params, stats, states, subkey))


def _sample_step(functions: PPOFunctions, params: tuple, stats: tuple, states: jax.Array, key: jax.Array,
                 packed: bool) -> tuple:
    """What a training step needs, in few outputs (each output of a jitted call costs about as much as a small
    matmul): ``(key, actions, log_prob, values)``, or ``(key, [actions | log_prob | values])`` when ``packed``."""
    key, actions, log_prob, _, values = _act_step(functions, params, stats, states, key)
    if not packed:
        return key, actions, log_prob, values
    return key, jnp.concatenate([actions.reshape(actions.shape[0], -1).astype(jnp.float32), log_prob, values], axis=-1)


class _LazyOutputs(Mapping):
    """The outputs dict of a training ``act``, computed (from the same inputs and key) only if it is read."""

    def __init__(self, compute: Callable[[], dict]) -> None:
        self._compute = compute
        self._outputs: Optional[dict] = None

    def _get(self) -> dict:
        if self._outputs is None:
            self._outputs = self._compute()
        return self._outputs

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@functools.partial(jax.jit, donate_argnums=0)
def _write_row(tensors: dict, row: jax.Array, samples: dict) -> dict:
    return {name: tensor.at[row].set(samples[name]) for name, tensor in tensors.items()}


def _store_step(memory: Any, samples: dict) -> bool:
    """Write one step of every env into a JAX-array memory in a single dispatch; False where that does not apply."""
    if not getattr(memory, "_jax", False) or memory.export or np.ndim(samples["states"]) < 2:
        return False
    plan = plan_samples_write(np.shape(samples["states"]), memory.memory_size, memory.num_envs, memory.memory_index,
                              memory.env_index)
    if plan.writes != (((memory.memory_index,), None),):
        return False
    names = [name for name in samples if name in memory.tensors]
    tensors = {name: memory.tensors[name] for name in names}
    if not all(tensor.committed for tensor in tensors.values()):  # one compilation: always committed arrays
        tensors = jax.device_put(tensors, memory.device)
    written = _write_row(tensors, np.int32(memory.memory_index), {name: samples[name] for name in names})
    memory.tensors.update(written)
    memory.memory_index, memory.env_index = plan.memory_index, plan.env_index
    memory.filled = memory.filled or plan.wrapped
    return True


class PPO(PPOSchedule, Agent):
    """Proximal Policy Optimization (JAX). Models: ``policy`` (stochastic) and ``value`` (deterministic)."""

    _float_dtype = np.float32
    _bool_dtype = np.bool_
    #: the pure functions of the algorithm (variants such as RPO or A2C subclass it)
    functions_class = PPOFunctions

    def _ppo_build_optimizers(self) -> None:
        from skrl.resources.optimizers.jax import Adam
        from skrl.resources.schedulers.jax import KLAdaptiveLR, kl_adaptive

        self._jax = config.jax.backend == "jax"
        key = jax.random.fold_in(config.jax.key, 0x5350)  # the agent's own stream, split inside jit
        self._key = jax.device_put(key, self.device)
        self._current_values: Any = None
        self._jitted: dict[str, Any] = {}
        self._device_inputs_cache: Optional[tuple] = None  # (host objects, their committed device copies)
        factory = self.cfg["learning_rate_scheduler"]
        self._kl_schedule = factory is KLAdaptiveLR or factory is kl_adaptive
        self.scheduler = factory(**self.cfg["learning_rate_scheduler_kwargs"]) if factory else None
        self._scaled = self.scheduler is None
        self.policy_optimizer = self.value_optimizer = None
        for model in {id(m): m for m in self._ppo_trained_models() if m is not None}.values():
            # strongly typed (a log-std made from a Python float is weakly typed; the update returns it strongly
            # typed): the jitted calls compile once, not again after the first update
            model.state_dict = model.state_dict.replace(params=commit(model.state_dict.params, self.device))
        if self.policy is not None and self.value is not None:
            clip = self._ppo.grad_norm_clip
            with jax.default_device(self.device):
                self.policy_optimizer = Adam(model=self.policy, lr=self._learning_rate, grad_norm_clip=clip, scale=self._scaled)
                self.value_optimizer = Adam(model=self.value, lr=self._learning_rate, grad_norm_clip=clip, scale=self._scaled)
            self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
            self.checkpoint_modules["value_optimizer"] = self.value_optimizer

    def _ppo_trained_models(self) -> list:
        """The models the update trains (AMP adds its discriminator)."""
        return [self.policy, self.value]

    # ---- pure functions and the state they change ------------------------------------------------------------

    def ppo_functions(self) -> PPOFunctions:
        """The agent's pure PPO functions (built once; the jitted trainer runs them inside its own loop)."""
        if "functions" not in self._jitted:
            lr_mode = "fixed" if self.scheduler is None else ("kl" if self._kl_schedule else "schedule")
            extra = tuple((name, value) for name, value in self._model_inputs(None).items() if name != "states")
            axis_name = distributed.process_axis()
            self._jitted["functions"] = self.functions_class(
                self.policy, self.value, self._ppo, scaler_spec(self._state_preprocessor),
                scaler_spec(self._value_preprocessor), lr_mode, self.scheduler if self._kl_schedule else None, extra,
                axis_name=axis_name)
        return self._jitted["functions"]

    def _function(self, name: str, function: Any, over_processes: Optional[tuple] = None, **jit_kwargs: Any) -> Any:
        """``function(self.ppo_functions(), ...)`` jitted once; in a distributed run, a function given
        ``over_processes=(local_in, local_out)`` runs on every process at once (``distributed.over_processes``)."""
        if name not in self._jitted:
            self._jitted[name] = distributed.jit(functools.partial(function, self.ppo_functions()), over_processes,
                                                 **jit_kwargs)
        return self._jitted[name]

    def _device_inputs(self) -> tuple:
        """``((policy params, value params), (state stats, value stats))`` committed to the agent's device.

        They are transferred (committed) again only when replaced (update, load, assignment): jitted calls then
        always see committed arrays and compile once.
        """
        functions = self.ppo_functions()
        host = (self.policy.state_dict.params, self.value.state_dict.params if self.value is not None else None,
                self._state_preprocessor.params if functions.state_spec else None,
                self._value_preprocessor.params if functions.value_spec else None)
        if self._device_inputs_cache is None or any(a is not b for a, b in zip(host, self._device_inputs_cache[0])):
            device = jax.device_put(host, self.device)
            self._device_inputs_cache = (host, (device[:2], device[2:]))
        return self._device_inputs_cache[1]

    def _stats(self) -> tuple:
        return self._device_inputs()[1]

    def train_state(self) -> PPOTrainState:
        """Everything the update changes, gathered from the models, optimizers, preprocessors and agent."""
        params, stats = self._device_inputs()
        optimizers = jax.device_put((self.policy_optimizer, self.value_optimizer, jnp.float32(self._learning_rate),
                                     self._key), self.device)
        return PPOTrainState(*params, *optimizers[:2], *stats, *optimizers[2:])

    def set_train_state(self, state: PPOTrainState) -> None:
        """Store a state returned by the update back into the models, optimizers, preprocessors and agent."""
        self.policy.state_dict = self.policy.state_dict.replace(params=state.policy_params)
        self.value.state_dict = self.value.state_dict.replace(params=state.value_params)
        self.policy_optimizer, self.value_optimizer = state.policy_optimizer, state.value_optimizer
        self.checkpoint_modules["policy_optimizer"] = self.policy_optimizer
        self.checkpoint_modules["value_optimizer"] = self.value_optimizer
        functions = self.ppo_functions()
        if functions.state_spec:
            self._state_preprocessor.params = state.state_stats
        if functions.value_spec:
            self._value_preprocessor.params = state.value_stats
        if self.scheduler is not None:
            self._learning_rate = state.learning_rate
        self._key = state.key

    def _stats_init(self, rewards: Any, like: Any = None) -> Any:
        """Episode statistics as committed device arrays, like those the jitted fold returns: it compiles once."""
        stats = super()._stats_init(rewards, like=like)
        return jax.device_put(stats, self.device) if self._stats_on_device() else stats

    def _stats_from_host(self, host: Any) -> Any:
        stats = super()._stats_from_host(host)
        return jax.device_put(stats, self.device) if self._stats_on_device() else stats

    # ---- interaction ---------------------------------------------------------------------------------------------

    def act(self, states: Any, timestep: int, timesteps: int) -> Any:
        """Sample actions for ``states`` in one jitted call; returns ``(actions, log_prob, outputs)``.

        In training the outputs dict (mean actions, ...) is computed only if it is read.
        """
        if timestep < self._random_timesteps:
            return self._random_act(states)
        params, stats = self._device_inputs()
        key = self._key
        if not self.training:
            self._key, actions, log_prob, outputs, values = self._function("act", _act_step)(params, stats, states, key)
        elif self._jax:
            self._key, actions, log_prob, values = self._function("sample", _sample_step, static_argnames="packed")(
                params, stats, states, key, packed=False)
        else:  # host env and NumPy memory: one transfer of one array for what the step needs
            self._key, packed = self._function("sample", _sample_step, static_argnames="packed")(
                params, stats, states, key, packed=True)
            actions, log_prob, values = self._unpack(np.asarray(packed))
        if self.training:
            states = states if self._jax else np.array(states)
            outputs = _LazyOutputs(lambda: self._function("act", _act_step)(params, stats, states, key)[3])
        elif not self._jax:
            actions, log_prob, values = jax.device_get((actions, log_prob, values))
        self._current_log_prob, self._current_values = log_prob, values
        return actions, log_prob, outputs

    def _unpack(self, packed: np.ndarray) -> tuple:
        width = packed.shape[-1] - 2
        actions = packed[:, :width]
        if isinstance(self.action_space, (gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)):
            actions = actions.astype(np.int32)
        return actions, packed[:, width:width + 1], packed[:, width + 1:]

    def _random_act(self, states: Any) -> Any:
        functions = self.ppo_functions()
        inputs = functions.model_inputs(self._preprocessed_states(states))
        actions = self.policy.random_act(inputs, role="policy")[0]
        self._key, subkey = jax.random.split(self._key)
        _, log_prob, outputs = self.policy.act({**inputs, "taken_actions": actions, "key": subkey}, role="policy")
        self._current_log_prob = log_prob if self._jax else np.asarray(log_prob)
        self._current_values = None
        return actions, self._current_log_prob, outputs

    def _preprocessed_states(self, states: Any) -> jax.Array:
        from skrl.jax.ppo_functions import preprocess

        return preprocess(self.ppo_functions().state_spec, self._stats()[0], jnp.asarray(states))

    def _values(self, states: Any) -> jax.Array:
        values_of = self._function("values", lambda functions, *args: functions.values_of(*args))
        params, stats = self._device_inputs()
        return values_of(params[1], stats, states)

    def _ppo_values_of(self, states: Any) -> Any:
        values, self._current_values = self._current_values, None  # computed by act() in the same jitted call
        if values is None:
            values = self._values(states)
            values = values if self._jax else np.asarray(values)
        return values

    def _ppo_store(self, **samples: Any) -> None:
        if self.secondary_memories or not _store_step(self.memory, samples):
            super()._ppo_store(**samples)

    # ---- update --------------------------------------------------------------------------------------------------

    def _ppo_update(self, timestep: int, timesteps: int) -> Optional[dict]:
        """The whole update in one jitted call; the tracked losses stay on the device."""
        rollout = self._rollout_arrays()
        state = self.train_state()
        local = type(state).process_local()  # distributed: the rollouts are each process's own, the steps averaged
        update = self._function("update", lambda functions, *args: functions.update(*args),
                                over_processes=((local, True, True, False), (local, True, True)))
        state, metrics, targets = update(state, rollout, self._current_next_states,
                                         np.float32(self._scheduled_learning_rate(timestep)))
        self.set_train_state(state)
        self._store_targets(*targets)
        if self._ppo.kl_threshold and not float(metrics["count"]):  # every mini-batch stopped: nothing to track
            return None
        return metrics

    def _rollout_arrays(self) -> dict:
        return jax.device_put({name: self.memory.get_tensor_by_name(name) for name in ROLLOUT_NAMES}, self.device)

    def _scheduled_learning_rate(self, timestep: int) -> float:
        """A non-KL schedule's rate at ``timestep``: a factor of the configured rate (skrl 1.4.3 compounded it)."""
        if self.scheduler is None or self._kl_schedule:
            return float(self._ppo.learning_rate)
        return float(self._ppo.learning_rate * self.scheduler(timestep))

    def _store_targets(self, values: jax.Array, returns: jax.Array, advantages: jax.Array) -> None:
        convert = (lambda x: x) if self._jax else np.asarray
        self.memory.set_tensor_by_name("values", convert(values))
        self.memory.set_tensor_by_name("returns", convert(returns))
        self.memory.set_tensor_by_name("advantages", convert(advantages))

    # ---- hooks for variants with their own update (TRPO) ---------------------------------------------------------

    def _ppo_compute_advantages(self) -> None:
        rollout = self._rollout_arrays()
        advantages = self._function("advantages", lambda functions, *args: functions.advantages(*args))
        value_stats, *targets = advantages(self.train_state(), rollout, self._current_next_states)
        if self.ppo_functions().value_spec:
            self._value_preprocessor.params = value_stats
        self._store_targets(*targets)

    def _ppo_permutation(self, size: int) -> np.ndarray:
        return np.random.permutation(size)

    def _ppo_step_scheduler(self, timestep: int, kls: list) -> None:
        if self.scheduler is None:
            return
        if self._kl_schedule:
            mean_kl = jnp.mean(jnp.stack(kls)) if kls else None
            self._learning_rate = self.scheduler(timestep, jnp.float32(self._learning_rate), mean_kl)
        else:
            self._learning_rate = self._scheduled_learning_rate(timestep)

    def _ppo_learning_rate(self) -> Optional[Any]:
        return self._learning_rate if self.scheduler is not None else None

    def _ppo_mean(self, values: list) -> jax.Array:
        return jnp.mean(jnp.stack(values))
