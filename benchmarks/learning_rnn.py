"""Learning benchmark for the recurrent agents (PPO_RNN, A2C_RNN, RPO_RNN, TRPO_RNN on CartPole-v1, TRPO_RNN on
Pendulum-v1 too; DDPG_RNN, TD3_RNN, SAC_RNN on Pendulum-v1), both backends, beside skrl 1.4.3 (same table as
``benchmarks/learning.py``).

    python benchmarks/learning_rnn.py [--agents PPO_RNN SAC_RNN ...] [--backends torch jax] [--seed 42] [--seeds 1]
                                      [--scale 1.0]
                                      [--skrl143 /path/to/venv-skrl143/bin/python] [--torch-threads 1]

Each entry is the non-recurrent row of ``learning_misc.py`` (on-policy) or ``learning.py`` (off-policy) with the
same task, envs, timesteps and settings, its models replaced by recurrent ones written as a user writes them (skrl's
documented pattern): a GRU of ``HIDDEN`` units over sequences of ``SEQUENCE_LENGTH`` steps, then a 64-unit MLP head
(tanh on-policy, relu off-policy, as in those rows), ``get_specification()`` giving ``{"rnn": {"sequence_length",
"sizes"}}`` and the hidden state passing through ``inputs["rnn"]`` / ``outputs["rnn"]``. The torch model tells the
update's sequences from the rollout's single steps by ``self.training`` (the same class runs on skrl 1.4.3: this
file with ``--job`` in the Python of an environment that has it, ``--skrl143``), the JAX one by
``inputs["terminated"]``; both reset the hidden state inside a sequence after a row whose episode ended. The JAX
model is ``torch.nn.GRU``'s cell and ``torch.nn.Linear`` layers written in Flax (given the same weights and scripted
actions, a rollout and an update agree to ~1e-7 between the backends). Both start from the same initialisation,
Flax's usual one, set by each model as a user would: LeCun-normal input and dense kernels, an orthogonal recurrent
kernel per gate, zero biases. With torch's default (every weight uniform in +-1/8) PPO_RNN reached 500 on
CartPole on 0 of 3 seeds, on either backend and on skrl 1.4.3; with this one torch reached 500 on 3 of 3. The
on-policy policy and value are separate recurrent models; the off-policy critics take the policy's stored states
(skrl feeds them to every model of the update) through a GRU of the same size over states and actions.

Two off-policy settings differ from ``learning.py`` (``OFF_POLICY_CHANGES``): a batch is 32 sequences of 8 steps
(256 rows, as its 256 transitions; 256 sequences would cost 8 times the compute) and ``random_timesteps`` is 0:
skrl 1.4.3's off-policy RNN agents store no states during ``random_timesteps`` (``random_act`` returns no
``"rnn"``), so their memory keeps its NaN fill there and the first update turns every weight into NaN. TRPO_RNN
also runs on Pendulum-v1 (as ``learning_misc.py``'s TRPO): skrl 1.4.3's TRPO reads ``"mean_actions"`` for its KL
and fails on CartPole's categorical policy.

The return is the mean over 10 fresh episodes of the deterministic policy after training (the most likely or mean
action, the policy's own output for DDPG/TD3), read from the policy model with the agent's state preprocessor and a
hidden state carried from step to step and zeroed when an episode ends (``agent.act`` would carry states of the
training envs' count); the rate counts training transitions over the wall time of ``trainer.train()`` (JIT
compilation and the data layer included); ``--seeds N`` as in ``learning.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import math
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import learning  # noqa: E402
import learning_misc  # noqa: E402
from learning import make_env  # noqa: E402

HIDDEN = 64  # GRU units (one layer)
HEAD = 64  # units of the MLP head after the GRU
SEQUENCE_LENGTH = 8  # divides every on-policy rollout, so that sequences stay within one env
#: off-policy: batches of 256 rows as in learning.py (32 sequences), and no random_timesteps (see the docstring)
OFF_POLICY_CHANGES = {"batch_size": 256 // SEQUENCE_LENGTH, "random_timesteps": 0}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row: a recurrent agent (package, class) on a gymnasium task with its envs, run length, memory size
    (0: the rollout), goal and plain settings (noises as [class name, kwargs]; scheduler and preprocessors by class
    name)."""

    agent: str
    package: str
    task: str
    num_envs: int
    timesteps: int
    memory_size: int
    goal: float
    settings: dict


def _on_policy(name: str, task: str) -> Entry:
    """``name`` (e.g. ``PPO_RNN``) on ``task`` as ``learning_misc.py``'s row of its base agent."""
    base = next(entry for entry in learning_misc.ENTRIES if entry.agent == name.split("_")[0] and entry.task == task)
    return Entry(name, base.package, base.task, base.num_envs, base.timesteps, 0, base.goal, base.settings)


def _off_policy(name: str) -> Entry:
    """``name`` (e.g. ``SAC_RNN``) on Pendulum-v1 as ``learning.py``'s row of its base agent (``OFF_POLICY_CHANGES``)."""
    base = next(entry for entry in learning.ENTRIES if entry.agent == name.split("_")[0])
    package, _, settings = learning.AGENTS[base.agent]
    return Entry(
        name,
        package,
        base.task,
        base.num_envs,
        base.timesteps,
        base.memory_size,
        base.goal,
        {**settings, **OFF_POLICY_CHANGES},
    )


ENTRIES = [_on_policy(name, "CartPole-v1") for name in ("PPO_RNN", "A2C_RNN", "RPO_RNN", "TRPO_RNN")]
ENTRIES += [_on_policy("TRPO_RNN", "Pendulum-v1")]  # skrl 1.4.3's TRPO needs a Gaussian policy
ENTRIES += [_off_policy(name) for name in ("DDPG_RNN", "TD3_RNN", "SAC_RNN")]

#: the models of each off-policy agent: role -> kind
OFF_POLICY_ROLES = {
    "DDPG": {"policy": "actor", "target_policy": "actor", "critic": "critic", "target_critic": "critic"},
    "TD3": {"policy": "actor", "target_policy": "actor", **learning.TWIN},
    "SAC": {"policy": "gaussian", **learning.TWIN},
}


def _module(path: str) -> Any:
    return importlib.import_module(path)


def _initialise_torch(gru: Any, head: Any) -> None:
    """The benchmark's initialisation (module docstring) for a ``torch.nn.GRU`` and a head of ``torch.nn.Linear``."""
    import torch

    with torch.no_grad():
        for name, parameter in gru.named_parameters():
            if name.startswith("weight_ih"):
                parameter.normal_(0.0, 1.0 / math.sqrt(parameter.shape[1]))
            elif name.startswith("weight_hh"):
                for gate in parameter.chunk(3, dim=0):  # r, z, n: one orthogonal matrix each
                    torch.nn.init.orthogonal_(gate)
            else:
                parameter.zero_()
        for layer in head:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.normal_(0.0, 1.0 / math.sqrt(layer.in_features))
                layer.bias.zero_()


def torch_model(kind: str, env: Any, activation: str) -> Any:
    """A GRU model of ``kind`` ("categorical", "gaussian" or "actor": 2·tanh, "value", "critic": Q(s, a))."""
    import torch
    import torch.nn as nn

    from skrl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

    class Recurrent(Model):
        def __init__(self) -> None:
            Model.__init__(self, env.observation_space, env.action_space, env.device)
            self.num_envs, self.sequence_length = env.num_envs, SEQUENCE_LENGTH
            features = self.num_observations + (self.num_actions if kind == "critic" else 0)
            self.gru = nn.GRU(features, HIDDEN, num_layers=1, batch_first=True)
            self.head = nn.Sequential(
                nn.Linear(HIDDEN, HEAD),
                nn.ReLU() if activation == "relu" else nn.Tanh(),
                nn.Linear(HEAD, 1 if kind in ("value", "critic") else self.num_actions),
            )
            _initialise_torch(self.gru, self.head)

        def get_specification(self) -> dict:
            return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, HIDDEN)]}}

        def recurrent(self, inputs: dict) -> tuple:
            x = inputs["states"]
            if kind == "critic":
                x = torch.cat([x, inputs["taken_actions"]], dim=-1)
            hidden = inputs["rnn"][0] if inputs.get("rnn") else None  # none: zeros (1.4.3's random_timesteps)
            if not self.training or hidden is None:  # rollout: one step of each env
                output, hidden = self.gru(x.unsqueeze(1), hidden)
                return self.head(output[:, 0]), {"rnn": [hidden]}
            # update: sequences of sequence_length rows, from the stored states of each sequence's first row
            length = self.sequence_length
            x = x.view(-1, length, x.shape[-1])
            hidden = hidden.view(hidden.shape[0], -1, length, hidden.shape[-1])[:, :, 0].contiguous()
            terminated = inputs.get("terminated")
            if terminated is None or not terminated.any():
                output, hidden = self.gru(x, hidden)
            else:  # run up to each step where an episode ended, then zero those states
                terminated = terminated.view(-1, length)
                ends = (terminated[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist()
                outputs = []
                for start, stop in zip([0, *ends], [*ends, length]):
                    output, hidden = self.gru(x[:, start:stop], hidden)
                    hidden = hidden * terminated[:, stop - 1].logical_not().view(1, -1, 1)
                    outputs.append(output)
                output = torch.cat(outputs, dim=1)
            return self.head(output.reshape(-1, HIDDEN)), {"rnn": [hidden]}

    class Categorical(CategoricalMixin, Recurrent):
        def __init__(self) -> None:
            Recurrent.__init__(self)
            CategoricalMixin.__init__(self, unnormalized_log_prob=True)

        def compute(self, inputs: dict, role: str) -> tuple:
            return self.recurrent(inputs)

    class Gaussian(GaussianMixin, Recurrent):
        def __init__(self) -> None:
            Recurrent.__init__(self)
            GaussianMixin.__init__(self, clip_actions=True)
            self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs: dict, role: str) -> tuple:
            output, outputs = self.recurrent(inputs)
            return 2 * torch.tanh(output), self.log_std_parameter, outputs

    class Deterministic(DeterministicMixin, Recurrent):
        def __init__(self) -> None:
            Recurrent.__init__(self)
            DeterministicMixin.__init__(self, clip_actions=False)

        def compute(self, inputs: dict, role: str) -> tuple:
            output, outputs = self.recurrent(inputs)
            return (2 * torch.tanh(output) if kind == "actor" else output), outputs

    return {"categorical": Categorical, "gaussian": Gaussian}.get(kind, Deterministic)()


def jax_model(kind: str, env: Any, activation: str) -> Any:
    """The JAX twin of ``torch_model``: ``torch.nn.GRU``'s cell (its gates r, z, n and its two biases per gate)
    scanned over each sequence, dense layers as ``torch.nn.Linear``, and the same initialisation (module docstring)."""
    import math

    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from skrl.models.jax import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

    def lecun_normal(key: Any, shape: tuple, dtype: Any = jnp.float32) -> Any:
        return jax.random.normal(key, shape, dtype) / math.sqrt(shape[0])

    def orthogonal_gates(key: Any, shape: tuple, dtype: Any = jnp.float32) -> Any:
        keys = jax.random.split(key, 3)  # r, z, n: one orthogonal matrix each, side by side
        return jnp.concatenate([nn.initializers.orthogonal()(k, (shape[0], HIDDEN), dtype) for k in keys], axis=-1)

    zeros = nn.initializers.zeros

    class Linear(nn.Module):
        """``torch.nn.Linear`` (kernel stored as ``(in, out)``)."""

        features: int

        @nn.compact
        def __call__(self, x: Any) -> Any:
            kernel = self.param("kernel", lecun_normal, (x.shape[-1], self.features))
            return x @ kernel + self.param("bias", zeros, (self.features,))

    class GRUCell(nn.Module):
        """One step of ``torch.nn.GRU`` (gates r, z, n; weights stored transposed, ``(in, 3 * HIDDEN)``)."""

        @nn.compact
        def __call__(self, hidden: Any, x: Any) -> tuple:
            gates_x = x @ self.param("weight_ih", lecun_normal, (x.shape[-1], 3 * HIDDEN)) + self.param(
                "bias_ih", zeros, (3 * HIDDEN,)
            )
            gates_h = hidden @ self.param("weight_hh", orthogonal_gates, (HIDDEN, 3 * HIDDEN)) + self.param(
                "bias_hh", zeros, (3 * HIDDEN,)
            )
            (rx, zx, nx), (rh, zh, nh) = jnp.split(gates_x, 3, axis=-1), jnp.split(gates_h, 3, axis=-1)
            reset, update = jax.nn.sigmoid(rx + rh), jax.nn.sigmoid(zx + zh)
            hidden = (1 - update) * jnp.tanh(nx + reset * nh) + update * hidden
            return hidden, hidden

    class ResetGRU(nn.Module):
        """One GRU step that zeroes the hidden state after a row whose episode ended."""

        @nn.compact
        def __call__(self, hidden: Any, rows: tuple) -> tuple:
            x, done = rows
            hidden, output = GRUCell()(hidden, x)
            return jnp.where(done, 0.0, hidden), output

    scan_gru = nn.scan(ResetGRU, variable_broadcast="params", split_rngs={"params": False}, in_axes=1, out_axes=1)
    mixins = {
        "categorical": (CategoricalMixin, {"unnormalized_log_prob": True}),
        "gaussian": (GaussianMixin, {"clip_actions": True}),
    }
    mixin, mixin_kwargs = mixins.get(kind, (DeterministicMixin, {"clip_actions": False}))

    class Recurrent(mixin, Model):
        # Flax clones a module from its fields when it applies it: what __call__ reads is a field
        num_envs: int = 1
        sequence_length: int = 1

        def __init__(
            self,
            observation_space: Any,
            action_space: Any,
            device: Any = None,
            num_envs: int = 1,
            sequence_length: int = 1,
            **kwargs: Any,
        ) -> None:
            Model.__init__(self, observation_space, action_space, device, **kwargs)
            self.num_envs, self.sequence_length = num_envs, sequence_length
            mixin.__init__(self, **mixin_kwargs)

        def get_specification(self) -> dict:
            return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, HIDDEN)]}}

        @nn.compact
        def __call__(self, inputs: dict, role: str) -> tuple:
            x, rnn, terminated = inputs["states"], inputs.get("rnn"), inputs.get("terminated")
            if kind == "critic":
                actions = inputs.get("taken_actions")
                if actions is None:  # parameter initialisation
                    actions = jnp.zeros((x.shape[0], self.num_actions))
                x = jnp.concatenate([x, actions], axis=-1)
            hidden = rnn[0][0] if rnn else jnp.zeros((x.shape[0], HIDDEN))
            if terminated is None:  # rollout (or parameter initialisation): one step of each env
                sequences, done = x[:, None], jnp.zeros((x.shape[0], 1, 1), bool)
            else:  # update: sequences of sequence_length rows, from the stored states of each sequence's first row
                length = self.sequence_length
                sequences = x.reshape(-1, length, x.shape[-1])
                hidden = hidden.reshape(-1, length, HIDDEN)[:, 0]
                done = terminated.reshape(-1, length, 1)
            hidden, output = scan_gru()(hidden, (sequences, done))
            output = Linear(HEAD)(output.reshape(-1, HIDDEN))
            output = Linear(1 if kind in ("value", "critic") else self.num_actions)(
                nn.relu(output) if activation == "relu" else nn.tanh(output)
            )
            outputs = {"rnn": [hidden[None]]}
            if kind == "gaussian":
                return 2 * nn.tanh(output), self.param("log_std", lambda _: jnp.zeros(self.num_actions)), outputs
            return (2 * nn.tanh(output) if kind == "actor" else output), outputs

    return Recurrent(
        env.observation_space, env.action_space, env.device, num_envs=env.num_envs, sequence_length=SEQUENCE_LENGTH
    )


def _models(entry: Entry, backend: str, env: Any) -> dict:
    import gymnasium

    base = entry.agent.split("_")[0]
    if base in OFF_POLICY_ROLES:
        roles, activation = OFF_POLICY_ROLES[base], "relu"
    else:
        discrete = isinstance(env.action_space, gymnasium.spaces.Discrete)
        roles, activation = {"policy": "categorical" if discrete else "gaussian", "value": "value"}, "tanh"
    models = {}
    for role, kind in roles.items():
        models[role] = (torch_model if backend == "torch" else jax_model)(kind, env, activation)
        if backend == "jax":  # Flax parameters (the torch models have no lazy modules)
            models[role].init_state_dict(role)
    return models


def build(entry: Entry, backend: str, env: Any, directory: str) -> Any:
    package = _module(f"skrl.agents.{backend}.{entry.package}")
    cfg = copy.deepcopy(getattr(package, f"{entry.agent.split('_')[0]}_DEFAULT_CONFIG"))
    if entry.memory_size:  # off-policy: as learning.py
        cfg.update(learning._with_noises(entry.settings, backend, env.device))
        cfg["experiment"] = {**learning.EXPERIMENT, "directory": directory}
    else:  # on-policy: as learning_misc.py
        cfg.update(learning_misc._resolved(entry.settings, backend, env))
        cfg["experiment"] = {**cfg["experiment"], "directory": directory, "checkpoint_interval": 0}
    memory = _module(f"skrl.memories.{backend}").RandomMemory(
        memory_size=entry.memory_size or cfg["rollouts"], num_envs=env.num_envs, device=env.device
    )
    return getattr(package, entry.agent)(
        models=_models(entry, backend, env),
        memory=memory,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=env.device,
        cfg=cfg,
    )


def evaluate(agent: Any, entry: Entry, backend: str, episodes: int = 10) -> float:
    """Mean return over ``episodes`` fresh episodes (one env each) of the policy's deterministic action (the most
    likely, the mean or its output), carrying its hidden state and zeroing it where an episode ended."""
    import contextlib

    env = make_env(entry, backend, seed=10_000, num_envs=episodes)
    agent.set_mode("eval")
    policy = agent.models["policy"]
    preprocessor = getattr(agent, "_state_preprocessor", None) or (lambda states: states)  # as agent.act applies it
    hidden = np.zeros((1, episodes, HIDDEN), np.float32)
    if backend == "torch":
        import torch

        hidden, no_grad = torch.as_tensor(hidden, device=env.device), torch.no_grad()
    else:
        no_grad = contextlib.nullcontext()
    states, _ = env.reset()
    totals, active = np.zeros(episodes), np.ones(episodes, dtype=bool)
    with no_grad:
        while active.any():
            actions, _, outputs = policy.act({"states": preprocessor(states), "rnn": [hidden]}, role="policy")
            if "net_output" in outputs:
                logits = outputs["net_output"]
                actions = (
                    logits.argmax(-1, keepdim=True) if hasattr(logits, "detach") else logits.argmax(-1, keepdims=True)
                )
            else:
                actions = outputs.get("mean_actions", actions)
            states, rewards, terminated, truncated, _ = env.step(actions)
            done = learning._to_numpy(terminated).reshape(-1).astype(bool) | learning._to_numpy(truncated).reshape(
                -1
            ).astype(bool)
            totals += learning._to_numpy(rewards).reshape(-1) * active
            active &= ~done
            keep = (~done).astype(np.float32).reshape(1, -1, 1)
            hidden = outputs["rnn"][0] * (torch.as_tensor(keep, device=env.device) if backend == "torch" else keep)
    env.close()
    return float(totals.mean())


def main() -> None:
    learning.self_running_main(__file__, ENTRIES, Entry, build, evaluate, list(dict.fromkeys(entry.agent for entry in ENTRIES)))


if __name__ == "__main__":
    main()
