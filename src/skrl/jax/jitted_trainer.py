"""Fully jitted PPO training for JAX-native environments: rollouts and updates inside one compiled loop.

``JittedTrainer`` runs chunks of iterations (``rollouts`` env steps with act, env step and episode statistics in a
``lax.scan``, then the agent's own jitted update) in one compiled ``lax.fori_loop``. Between chunks, at the write
and checkpoint intervals planned by ``skrl.common.jitted_schedule``, it hands everything back to the agent, whose
data layer writes TensorBoard scalars, checkpoints and the best model as with the other trainers. The agent's
config is used as it is: the update is ``PPOFunctions.update``, the same function as ``agent`` uses.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import tqdm

from skrl._logging import logger
from skrl.common.jitted_schedule import Chunk, plan_chunks
from skrl.common.tracking import episode_statistics_init, episode_statistics_update_block
from skrl.jax import distributed
from skrl.jax.native_envs import functional_env
from skrl.jax.ppo_functions import PPOTrainState

JITTED_TRAINER_DEFAULT_CONFIG: dict[str, Any] = {
    "timesteps": 100000,  # env steps per env to train or evaluate for (whole rollouts are run)
    "disable_progressbar": False,  # tqdm's `disable` (None: disabled on a non-TTY)
    "close_environment_at_exit": False,  # close the environment when the interpreter exits
    "stochastic_evaluation": False,  # evaluate with sampled actions instead of the mean actions
}

_TRACKED = (("policy_loss", "Loss / Policy loss"), ("value_loss", "Loss / Value loss"),
            ("entropy_loss", "Loss / Entropy loss"), ("stddev", "Policy / Standard deviation"),
            ("learning_rate", "Learning / Learning rate"))


def _strongly_typed(x: Any) -> Any:
    """``x`` without JAX's weak type (an env state built from Python scalars, e.g. gymnax Pendulum's ``last_u``):
    the chunk returns it strongly typed, and the next call must see the same types not to compile again."""
    return x.astype(x.dtype) if getattr(x, "weak_type", False) else x


def _check_agent(agent: Any) -> None:
    if not callable(getattr(agent, "ppo_functions", None)):
        raise TypeError("JittedTrainer trains agents whose update is a pure JAX function (skrl.agents.jax.ppo.PPO "
                        f"and its variants). Received: {type(agent).__name__}")
    if hasattr(agent, "discriminator"):
        raise TypeError("JittedTrainer does not train AMP (its rewards need the environment's AMP observations and "
                        f"reference motions on the host): use SequentialTrainer. Received: {type(agent).__name__}")
    if getattr(agent, "_rnn", None) is not None:
        raise TypeError("JittedTrainer does not train agents with recurrent models (the RNN variants): use "
                        f"SequentialTrainer. Received: {type(agent).__name__}")
    if agent._random_timesteps > 0:
        raise ValueError("JittedTrainer does not take random actions: expected random_timesteps=0 in the agent "
                         f"config (or use SequentialTrainer). Received: random_timesteps={agent._random_timesteps}")


class JittedLoop:
    """The compiled chunk of iterations for one agent and environment (pure functions of a carry dict)."""

    def __init__(self, agent: Any, env: Any, timesteps: int, training: bool, stochastic: bool) -> None:
        self.functions = agent.ppo_functions()
        self.env = env
        self.rollouts = agent._rollouts
        self.timesteps = timesteps
        self.training = training
        self.stochastic = stochastic or training
        self.shaper = agent._rewards_shaper
        self.learning_starts = agent._learning_starts
        self.schedule = None if agent.scheduler is None or agent._kl_schedule else agent.scheduler
        if self.functions.axis_name is None:
            self.run = jax.jit(self._chunk)
        else:  # distributed: every process runs its own envs; the updates average the gradients over the processes
            local = {"state": PPOTrainState.process_local(), "env_key": True, "env_state": True, "observations": True,
                     "stats": True, "totals": True}
            self.run = distributed.over_processes(self._chunk, (local, False, False), local)

    def initial_carry(self, agent: Any) -> dict:
        """What the loop carries, from the agent (its train state, episode statistics) and a fresh env reset."""
        state = agent.train_state()
        env_key = jax.random.fold_in(state.key, 0x454E56)
        env_state, observations = jax.tree_util.tree_map(_strongly_typed, self.env.reset(env_key))
        agent._fold_pending_steps()
        stats = agent._episode_stats
        stats = episode_statistics_init(np, self.env.num_envs) if stats is None else stats
        totals = {**{name: np.zeros((), np.float32) for name, _ in _TRACKED}, "updates": np.zeros((), np.float32)}
        carry = {"state": state, "env_key": jax.random.fold_in(env_key, 1), "env_state": env_state,
                 "observations": observations, "stats": stats, "totals": totals}
        return jax.device_put(carry, agent.device)  # committed arrays, as after every chunk: one compilation

    def _chunk(self, carry: dict, iterations: jax.Array, first_timestep: jax.Array) -> dict:
        def body(index: jax.Array, carry: dict) -> dict:
            return self._iteration(carry, first_timestep + index * self.rollouts)

        return jax.lax.fori_loop(0, iterations, body, carry)

    def _iteration(self, carry: dict, first: jax.Array) -> dict:
        """``rollouts`` env steps from the 0-based timestep ``first``, then (training) one update."""
        carry, (rollout, (rewards, done)) = jax.lax.scan(self._step, carry, first + jnp.arange(self.rollouts))
        # the episode statistics of the whole rollout at once: cheaper than per step, and a per-step reduction fused
        # with the env step and the policy's sampling can stall XLA's CPU code generation (seen with Pendulum-v1)
        carry = {**carry, "stats": episode_statistics_update_block(jnp, carry["stats"], rewards, done)}
        if not self.training:
            return carry
        last = first + self.rollouts - 1
        scheduled = None
        if self.schedule is not None:
            scheduled = self.functions.cfg.learning_rate * self.schedule(last)
        state, metrics = jax.lax.cond(last >= self.learning_starts, self._update, self._skip,
                                      carry["state"], rollout, carry["observations"], scheduled)
        counted = metrics["count"] > 0  # an update whose every mini-batch hit the KL early stop tracks nothing
        totals = {name: carry["totals"][name] + jnp.where(counted, metrics[name], 0.0) for name, _ in _TRACKED}
        totals["updates"] = carry["totals"]["updates"] + counted.astype(jnp.float32)
        return {**carry, "state": state, "totals": totals}

    def _update(self, state: PPOTrainState, rollout: dict, observations: jax.Array, scheduled: Any) -> tuple:
        state, metrics, _ = self.functions.update(state, rollout, observations, scheduled)
        return state, metrics

    def _skip(self, state: PPOTrainState, rollout: dict, observations: jax.Array, scheduled: Any) -> tuple:
        del rollout, observations, scheduled
        zero = jnp.zeros((), jnp.float32)
        return state, {**{name: zero for name, _ in _TRACKED}, "count": zero, "learning_rate": state.learning_rate}

    def _step(self, carry: dict, timestep: jax.Array) -> tuple:
        state = carry["state"]
        key, act_key = jax.random.split(state.key)
        env_key, step_key = jax.random.split(carry["env_key"])
        observations = carry["observations"]
        actions, log_prob, outputs, values = self.functions.act(
            (state.policy_params, state.value_params), (state.state_stats, state.value_stats), observations, act_key)
        if not self.stochastic:
            actions = outputs.get("mean_actions", actions)
        env_state, next_observations, rewards, terminated, truncated = self.env.step(carry["env_state"], actions, step_key)
        tracked = (rewards, jnp.logical_or(terminated, truncated))
        if self.shaper is not None:
            rewards = self.shaper(rewards, timestep, self.timesteps)
        if self.functions.cfg.time_limit_bootstrap:
            rewards = rewards + self.functions.cfg.discount_factor * values * truncated
        transition = {"states": observations, "actions": actions, "rewards": rewards, "terminated": terminated,
                      "truncated": truncated, "log_prob": log_prob, "values": values}
        carry = {**carry, "state": state.replace(key=key), "env_key": env_key, "env_state": env_state,
                 "observations": next_observations}
        return carry, (transition, tracked)


class JittedTrainerCore:
    """Train (or evaluate) one JAX PPO agent on a JAX-native environment with rollouts and updates compiled together.

    Combined with the JAX ``Trainer`` base as ``skrl.trainers.jax.JittedTrainer``. The agent's TensorBoard scalars,
    checkpoints, best model and resume (``agent.load`` then ``train``) work as with ``SequentialTrainer``; the host
    is visited only at the write and checkpoint intervals. ``timesteps`` is counted in env steps per env, as by the
    other trainers; whole rollouts are run.
    """

    default_config = JITTED_TRAINER_DEFAULT_CONFIG
    initializes_agents = True

    def __init__(self, env: Any, agents: Any, agents_scope: Optional[Sequence[int]] = None,
                 cfg: Optional[Mapping[str, Any]] = None) -> None:
        self.functions = functional_env(env)
        super().__init__(env, agents, agents_scope, cfg)
        if self.num_simultaneous_agents > 1:
            raise ValueError(f"JittedTrainer trains one agent. Received: {self.num_simultaneous_agents} agents")
        _check_agent(self.agents)

    def train(self) -> None:
        """Train the agent for ``timesteps`` env steps (from its ``resume_timestep`` after a checkpoint was loaded)."""
        self._run_jitted(training=True)

    def eval(self) -> None:
        """Run the agent (mean actions unless ``stochastic_evaluation``) and write its episode statistics."""
        self._run_jitted(training=False)

    def _run_jitted(self, training: bool) -> None:
        agent = self.agents
        self._set_running_mode(training)
        start = self._start_timestep(training)
        if agent._rollout % agent._rollouts:
            logger.warning(f"The agent is {agent._rollout % agent._rollouts} steps into a rollout: JittedTrainer "
                           "starts a new one")
        checkpoint_interval = agent.checkpoint_interval if training else 0
        chunks = plan_chunks(start, self.timesteps, agent._rollouts, agent.write_interval, checkpoint_interval)
        if (self.timesteps - start) % agent._rollouts:
            logger.warning(f"JittedTrainer runs whole rollouts: the last {(self.timesteps - start) % agent._rollouts} "
                           f"of {self.timesteps} timesteps are not run")
        loop = JittedLoop(agent, self.functions, self.timesteps, training, self.stochastic_evaluation)
        last = None
        try:
            carry = loop.initial_carry(agent)
            progress = tqdm.tqdm(total=self.timesteps, initial=start, disable=self.disable_progressbar, file=sys.stdout)
            first = start
            for chunk in chunks:
                carry = loop.run(carry, np.int32(chunk.iterations), np.int32(first))
                carry = self._hand_over(agent, carry, chunk, training)
                progress.update(chunk.end - first)
                first, last = chunk.end, chunk.end - 1
            progress.close()
        finally:
            try:
                self._finish_agents(last)
            finally:
                self._close_agents()

    def _hand_over(self, agent: Any, carry: dict, chunk: Chunk, training: bool) -> dict:
        """Give the agent what the chunk changed, let its data layer write, and return the carry for the next chunk."""
        agent.set_train_state(carry["state"])
        agent._episode_stats = carry["stats"]
        if training:
            agent._rollout += chunk.iterations * agent._rollouts
            self._track_losses(agent, jax.device_get(carry["totals"]))
        if chunk.write or (chunk.checkpoint and not agent._tracking_enabled):
            agent.write_tracking_data(chunk.end, self.timesteps)
        if chunk.checkpoint:
            agent.write_checkpoint(chunk.end, self.timesteps)
        totals = {name: np.zeros((), np.float32) for name in carry["totals"]}
        stats = dict(agent._episode_stats)  # the write started a new interval (host or device arrays)
        return jax.device_put({**carry, "stats": stats, "totals": totals}, agent.device)  # committed: one compilation

    def _track_losses(self, agent: Any, totals: Mapping[str, np.ndarray]) -> None:
        """Record each update's mean losses as the host path does (one value per update, averaged at write)."""
        updates = int(totals["updates"])
        if not updates or not agent._tracking_enabled:
            return
        cfg = agent._ppo
        for name, tag in _TRACKED:
            if (name == "entropy_loss" and not cfg.entropy_loss_scale) or (name == "learning_rate" and agent.scheduler is None):
                continue
            for _ in range(updates):
                agent.track_data(tag, float(totals[name]) / updates)
