"""GRU policy and value models for both backends, a memory task and builders for the RNN agents' tests.

The torch models are written as the skrl 1.4.3 docs write recurrent models (``self.training`` tells the update's
sequences from the rollout's single steps); the JAX ones scan a ``flax.linen.GRUCell`` over each sequence and tell
the update by ``inputs["terminated"]``. Both take the stored state of each sequence's first row and reset the hidden
state after a row whose episode ended.
"""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np
from builders import module

HIDDEN = 8


# ---- torch -------------------------------------------------------------------------------------------------------

def _torch_models():  # noqa: C901 (one class per model kind)
    import torch
    import torch.nn as nn

    from skrl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

    class Recurrent:
        def _setup(self, num_envs, sequence_length, hidden, outputs, features=None):
            self.num_envs, self.sequence_length, self.hidden = num_envs, sequence_length, hidden
            self.gru = nn.GRU(features or self.num_observations, hidden, num_layers=1, batch_first=True)
            self.head = nn.Sequential(nn.Linear(hidden, 16), nn.Tanh(), nn.Linear(16, outputs))

        def get_specification(self):
            return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, self.hidden)]}}

        def _recurrent(self, inputs):
            states, rnn = inputs["states"], inputs.get("rnn")
            hidden = rnn[0] if rnn else None  # no states: parameter initialisation (``init_state_dict``)
            if not self.training or hidden is None:  # rollout (or last values): one step of each env
                output, hidden = self.gru(states.unsqueeze(1), hidden)
                return self.head(output[:, 0]), {"rnn": [hidden]}
            length = self.sequence_length
            sequences = states.view(-1, length, states.shape[-1])
            hidden = hidden.view(hidden.shape[0], -1, length, hidden.shape[-1])[:, :, 0].contiguous()
            terminated = inputs.get("terminated")
            outputs = []
            for t in range(length):
                output, hidden = self.gru(sequences[:, t:t + 1], hidden)
                outputs.append(output)
                if terminated is not None:
                    hidden = hidden * terminated.view(-1, length)[:, t].logical_not().view(1, -1, 1).float()
            output = torch.cat(outputs, dim=1).reshape(-1, self.hidden)
            return self.head(output), {"rnn": [hidden]}

    class GaussianPolicy(GaussianMixin, Recurrent, Model):
        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN):
            Model.__init__(self, observation_space, action_space, device)
            GaussianMixin.__init__(self, clip_actions=False)
            self._setup(num_envs, sequence_length, hidden, self.num_actions)
            self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs, role):
            output, outputs = self._recurrent(inputs)
            return output, self.log_std_parameter, outputs

    class CategoricalPolicy(CategoricalMixin, Recurrent, Model):
        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN):
            Model.__init__(self, observation_space, action_space, device)
            CategoricalMixin.__init__(self, unnormalized_log_prob=True)
            self._setup(num_envs, sequence_length, hidden, self.num_actions)

        def compute(self, inputs, role):
            return self._recurrent(inputs)

    class Value(DeterministicMixin, Recurrent, Model):
        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN):
            Model.__init__(self, observation_space, action_space, device)
            DeterministicMixin.__init__(self, clip_actions=False)
            self._setup(num_envs, sequence_length, hidden, 1)

        def compute(self, inputs, role):
            return self._recurrent(inputs)

    class DeterministicPolicy(DeterministicMixin, Recurrent, Model):
        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN):
            Model.__init__(self, observation_space, action_space, device)
            DeterministicMixin.__init__(self, clip_actions=False)
            self._setup(num_envs, sequence_length, hidden, self.num_actions)

        def compute(self, inputs, role):
            output, outputs = self._recurrent(inputs)
            return torch.tanh(output), outputs

    class Critic(DeterministicMixin, Recurrent, Model):
        """Q(states, taken_actions), fed the policy's states (skrl-api-agents.md section 10)."""

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN):
            Model.__init__(self, observation_space, action_space, device)
            DeterministicMixin.__init__(self, clip_actions=False)
            self._setup(num_envs, sequence_length, hidden, 1, self.num_observations + self.num_actions)

        def compute(self, inputs, role):
            states = torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1)
            return self._recurrent({**inputs, "states": states})

    _torch_models.off_policy = DeterministicPolicy, Critic
    return GaussianPolicy, CategoricalPolicy, Value


# ---- JAX ---------------------------------------------------------------------------------------------------------

def _jax_models():  # noqa: C901 (one class per model kind)
    import flax.linen as nn
    import jax.numpy as jnp

    from skrl.models.jax import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

    class ResetGRU(nn.Module):
        """One GRU step that zeroes the hidden state after a row whose episode ended."""

        features: int

        @nn.compact
        def __call__(self, hidden, rows):
            x, done = rows
            hidden, output = nn.GRUCell(features=self.features)(hidden, x)
            return jnp.where(done, 0.0, hidden), output

    ScanGRU = nn.scan(ResetGRU, variable_broadcast="params", split_rngs={"params": False}, in_axes=1, out_axes=1)

    class Recurrent:
        # each model class declares num_envs, sequence_length and hidden as Flax fields (Flax clones a module from
        # its fields when it applies it: attributes set otherwise in __init__ would be lost)

        def get_specification(self):
            return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, self.hidden)]}}

        def _recurrent(self, inputs, outputs):
            states, rnn, terminated = inputs["states"], inputs.get("rnn"), inputs.get("terminated")
            hidden = rnn[0][0] if rnn else jnp.zeros((states.shape[0], self.hidden))
            if terminated is None:  # rollout (or parameter init): one step of each env
                sequences, done = states[:, None], jnp.zeros((states.shape[0], 1, 1), bool)
            else:  # update: sequences of sequence_length rows, the first row's stored state
                length = self.sequence_length
                sequences = states.reshape(-1, length, states.shape[-1])
                hidden = hidden.reshape(-1, length, self.hidden)[:, 0]
                done = terminated.reshape(-1, length, 1)
            hidden, output = ScanGRU(self.hidden)(hidden, (sequences, done))
            x = nn.tanh(nn.Dense(16)(output.reshape(-1, self.hidden)))
            return nn.Dense(outputs)(x), {"rnn": [hidden[None]]}

    def init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        self.num_envs, self.sequence_length, self.hidden = num_envs, sequence_length, hidden

    class GaussianPolicy(GaussianMixin, Recurrent, Model):
        num_envs: int = 1
        sequence_length: int = 1
        hidden: int = HIDDEN

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN,
                     **kwargs):
            init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs)
            GaussianMixin.__init__(self, clip_actions=False)

        @nn.compact
        def __call__(self, inputs, role):
            output, outputs = self._recurrent(inputs, self.num_actions)
            return output, self.param("log_std", lambda _: jnp.zeros(self.num_actions)), outputs

    class CategoricalPolicy(CategoricalMixin, Recurrent, Model):
        num_envs: int = 1
        sequence_length: int = 1
        hidden: int = HIDDEN

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN,
                     **kwargs):
            init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs)
            CategoricalMixin.__init__(self, unnormalized_log_prob=True)

        @nn.compact
        def __call__(self, inputs, role):
            return self._recurrent(inputs, self.num_actions)

    class Value(DeterministicMixin, Recurrent, Model):
        num_envs: int = 1
        sequence_length: int = 1
        hidden: int = HIDDEN

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN,
                     **kwargs):
            init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs)
            DeterministicMixin.__init__(self, clip_actions=False)

        @nn.compact
        def __call__(self, inputs, role):
            return self._recurrent(inputs, 1)

    class DeterministicPolicy(DeterministicMixin, Recurrent, Model):
        num_envs: int = 1
        sequence_length: int = 1
        hidden: int = HIDDEN

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN,
                     **kwargs):
            init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs)
            DeterministicMixin.__init__(self, clip_actions=False)

        @nn.compact
        def __call__(self, inputs, role):
            output, outputs = self._recurrent(inputs, self.num_actions)
            return nn.tanh(output), outputs

    class Critic(DeterministicMixin, Recurrent, Model):
        """Q(states, taken_actions), fed the policy's states (skrl-api-agents.md section 10)."""

        num_envs: int = 1
        sequence_length: int = 1
        hidden: int = HIDDEN

        def __init__(self, observation_space, action_space, device=None, num_envs=1, sequence_length=1, hidden=HIDDEN,
                     **kwargs):
            init(self, observation_space, action_space, device, num_envs, sequence_length, hidden, kwargs)
            DeterministicMixin.__init__(self, clip_actions=False)

        @nn.compact
        def __call__(self, inputs, role):
            actions = inputs.get("taken_actions")
            if actions is None:  # parameter initialisation
                actions = jnp.zeros((inputs["states"].shape[0], self.num_actions))
            states = jnp.concatenate([inputs["states"], actions], axis=-1)
            return self._recurrent({**inputs, "states": states}, 1)

    _jax_models.off_policy = DeterministicPolicy, Critic
    return GaussianPolicy, CategoricalPolicy, Value


#: the models of each off-policy RNN agent: role -> "gaussian", "actor" (deterministic) or "critic"
OFF_POLICY_ROLES = {
    "DDPG": {"policy": "actor", "target_policy": "actor", "critic": "critic", "target_critic": "critic"},
    "TD3": {"policy": "actor", "target_policy": "actor", "critic_1": "critic", "critic_2": "critic",
            "target_critic_1": "critic", "target_critic_2": "critic"},
    "SAC": {"policy": "gaussian", "critic_1": "critic", "critic_2": "critic", "target_critic_1": "critic",
            "target_critic_2": "critic"},
}


def gru_off_policy_models(backend: str, agent: str, env, sequence_length: int, hidden: int = HIDDEN) -> dict:
    """GRU models of ``agent`` ("SAC", "TD3", "DDPG"): every critic has the policy's state size (it is fed the
    policy's states)."""
    build = _torch_models if backend == "torch" else _jax_models
    gaussian = build()[0]
    actor, critic = build.off_policy
    kinds = {"gaussian": gaussian, "actor": actor, "critic": critic}
    kwargs = {"num_envs": env.num_envs, "sequence_length": sequence_length, "hidden": hidden}
    models = {}
    for role, kind in OFF_POLICY_ROLES[agent].items():
        models[role] = kinds[kind](env.observation_space, env.action_space, env.device, **kwargs)
        models[role].init_state_dict(role)
    return models


def gru_models(backend: str, env, sequence_length: int, hidden: int = HIDDEN) -> dict:
    """A recurrent ``policy`` (Gaussian, or categorical for a Discrete action space) and a recurrent ``value``."""
    gaussian, categorical, value = _torch_models() if backend == "torch" else _jax_models()
    policy = categorical if isinstance(env.action_space, gymnasium.spaces.Discrete) else gaussian
    kwargs = {"num_envs": env.num_envs, "sequence_length": sequence_length, "hidden": hidden}
    models = {"policy": policy(env.observation_space, env.action_space, env.device, **kwargs),
              "value": value(env.observation_space, env.action_space, env.device, **kwargs)}
    for role, model in models.items():
        model.init_state_dict(role)
    return models


def make_agent(backend: str, name: str, env, models: dict, cfg: dict, memory_size=None):
    """``skrl.agents.<backend>.<base>.<name>`` (e.g. ``PPO_RNN``) as a skrl 1.4.3 user builds it."""
    memory = module("memories", backend).RandomMemory(memory_size=memory_size or cfg.get("rollouts", 16),
                                                      num_envs=env.num_envs, device=env.device)
    package = name.split("_")[0].lower()
    agent = getattr(importlib.import_module(f"skrl.agents.{backend}.{package}"), name)
    return agent(models=models, memory=memory, observation_space=env.observation_space, action_space=env.action_space,
                 device=env.device, cfg=cfg)


# ---- a memory task -----------------------------------------------------------------------------------------------

class CueEnv(gymnasium.vector.VectorEnv):
    """Episodes of 4 steps: step 0 shows a cue (-1 or +1), step 3 asks for it (observation ``[cue, query]``).

    The action (Discrete(2)) is rewarded only at the query: 1 if it names the cue (0 for -1, 1 for +1), else 0.
    A feed-forward policy sees ``[0, 1]`` at every query and cannot beat chance (0.5 per episode); a recurrent one
    can remember the cue and reach 1. Every env starts its episodes together; the envs reset in the same step.
    """

    metadata = {"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}
    LENGTH = 4

    def __init__(self, num_envs: int = 16, seed: int = 0):
        self.num_envs = num_envs
        self.single_observation_space = gymnasium.spaces.Box(-1, 1, (2,), dtype=np.float32)
        self.single_action_space = gymnasium.spaces.Discrete(2)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, num_envs)
        self._rng = np.random.default_rng(seed)
        self._t = 0
        self._cue = np.zeros(num_envs, np.float32)

    def _observations(self):
        observations = np.zeros((self.num_envs, 2), np.float32)
        if self._t == 0:
            observations[:, 0] = self._cue
        observations[:, 1] = float(self._t == self.LENGTH - 1)
        return observations

    def _new_episodes(self):
        self._t = 0
        self._cue = self._rng.choice(np.array([-1.0, 1.0], np.float32), self.num_envs)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._new_episodes()
        return self._observations(), {}

    def step(self, actions):
        actions = np.asarray(actions).reshape(-1)
        query = self._t == self.LENGTH - 1
        rewards = (actions == (self._cue > 0)).astype(np.float32) if query else np.zeros(self.num_envs, np.float32)
        terminated = np.full(self.num_envs, query)
        if query:
            self._new_episodes()
        else:
            self._t += 1
        return self._observations(), rewards, terminated, np.zeros(self.num_envs, bool), {}


class ContinuousCueEnv(CueEnv):
    """``CueEnv`` with a Box(-1, 1, (1,)) action, rewarded ``cue * action`` at the query (the off-policy agents'
    continuous actions): chance, and any feed-forward policy, get 0 per episode; a recurrent one can reach 1."""

    def __init__(self, num_envs: int = 16, seed: int = 0):
        super().__init__(num_envs, seed)
        self.single_action_space = gymnasium.spaces.Box(-1, 1, (1,), dtype=np.float32)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, num_envs)

    def step(self, actions):
        actions = np.clip(np.asarray(actions, np.float32).reshape(-1), -1, 1)
        query = self._t == self.LENGTH - 1
        rewards = actions * self._cue if query else np.zeros(self.num_envs, np.float32)
        terminated = np.full(self.num_envs, query)
        if query:
            self._new_episodes()
        else:
            self._t += 1
        return self._observations(), rewards, terminated, np.zeros(self.num_envs, bool), {}


def wrapped_cue_env(backend: str, num_envs: int = 16, seed: int = 0, continuous: bool = False):
    env = (ContinuousCueEnv if continuous else CueEnv)(num_envs, seed)
    return module("envs.wrappers", backend).wrap_env(env, wrapper="gymnasium", verbose=False)
